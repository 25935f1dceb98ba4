"""Resolve a path inside a root filesystem without ever leaving it.

An image is untrusted input: its /etc could be a symlink to the host's /etc, its
working directory a symlink to /root. Every path the daemon or a runtime touches in a
rootfs is resolved component by component, and a symlink is followed as if the
rootfs were `/` (what a process inside would see), never on the host. (runc uses the
filepath-securejoin library for the same job.)
"""

from __future__ import annotations

import os


def secure_join(root: str, unsafe: str) -> str:
    root = os.path.abspath(root)
    parts = [p for p in unsafe.split("/") if p and p != "."]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        if os.path.islink(candidate):
            links += 1
            if links > 255:
                raise OSError(f"too many symlinks resolving {unsafe} in {root}")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p and p != "."] + parts
            continue
        resolved.append(part)
    return os.path.join(root, *resolved)
