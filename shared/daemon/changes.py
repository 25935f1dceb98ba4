"""`docker diff`: what a container changed, read from its overlay's upper dir.

Everything a container writes lands in its upper dir (snapshots.py), so its changes
are a walk of that one directory, compared with the image's layers below (moby's
archive.OverlayChanges, what Docker 20.10's overlay2 driver answers):

- a 0/0 character device is overlayfs's whiteout: the file of that name was deleted (D);
- a directory with `trusted.overlay.opaque=y` was removed and made again, hiding
  everything below it: moby reports it as deleted (D), its new contents as added;
- anything else is a change (C) if a layer has that path, else an addition (A). A
  directory that is only in the upper dir because something under it changed (overlay
  copies the parents up) and whose size, mode and mtime match the layer's is no
  change of its own;
- the parent of an addition or deletion is reported changed (C) when nothing else
  reported it, as moby does, so that a layer built from these changes keeps the
  parent's permissions.

Kinds as the API has them: 0 changed, 1 added, 2 deleted.
"""

from __future__ import annotations

import os
import stat

MODIFY, ADD, DELETE = 0, 1, 2
OPAQUE_XATTR = "trusted.overlay.opaque"
# What a runtime makes in the rootfs to mount on (the network files, the kernel's
# filesystems) and Docker keeps in a layer of its own between the image and the
# container's ("-init", moby's initlayer): never the container's own change. Stage 1
# adds the mount point of its exec helper, /.whalebones (Docker 0.x's /.dockerinit).
INIT_PATHS = frozenset({"/dev/pts", "/dev/shm", "/proc", "/sys", "/.dockerenv",
                        "/etc/resolv.conf", "/etc/hosts", "/etc/hostname", "/dev/console",
                        "/etc/mtab", "/dev/mqueue", "/.whalebones"})


def _deleted(full: str, st: os.stat_result) -> bool:
    if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
        return True
    if stat.S_ISDIR(st.st_mode):
        try:
            return os.getxattr(full, OPAQUE_XATTR, follow_symlinks=False) == b"y"
        except OSError:
            return False
    return False


def _same_second(a: float, b: float) -> bool:
    """moby's sameFsTime: equal, or the same second with one of them whole (tar
    keeps whole seconds)."""
    return a == b or (int(a) == int(b) and (a == int(a) or b == int(b)))


def container_changes(upper: str, lowers: list[str]) -> list[dict]:
    """[{"Path": "/etc", "Kind": 0}, ...] in moby's order (a sorted depth-first walk)."""
    found: list[dict] = []
    changed_dirs: set[str] = set()

    def only_init_paths(rel: str, full: str) -> bool:
        """A directory in the upper dir only because mount points were made in it."""
        return all(os.path.join(rel, n) in INIT_PATHS for n in os.listdir(full))

    def visit(rel: str) -> None:
        if rel in INIT_PATHS:
            return
        full = os.path.join(upper, rel.lstrip("/"))
        st = os.lstat(full)
        kind = ADD
        if _deleted(full, st):
            kind = DELETE
        else:
            for lower in lowers:
                try:
                    below = os.lstat(os.path.join(lower, rel.lstrip("/")))
                except (FileNotFoundError, NotADirectoryError):
                    continue
                if stat.S_ISDIR(below.st_mode) and stat.S_ISDIR(st.st_mode) and (
                        below.st_mode == st.st_mode and below.st_size == st.st_size
                        and (_same_second(below.st_mtime, st.st_mtime)
                             or only_init_paths(rel, full))):
                    kind = -1  # the same directory: no change of its own
                else:
                    kind = MODIFY
                break
        if kind != -1:
            if stat.S_ISDIR(st.st_mode):
                changed_dirs.add(rel)
            if kind in (ADD, DELETE):
                parent = os.path.dirname(rel)
                if parent != "/" and parent not in changed_dirs:
                    found.append({"Path": parent, "Kind": MODIFY})
                    changed_dirs.add(parent)
            found.append({"Path": rel, "Kind": kind})
        if stat.S_ISDIR(st.st_mode):
            for name in sorted(os.listdir(full)):
                visit(os.path.join(rel, name))

    for name in sorted(os.listdir(upper)):
        visit("/" + name)
    return found
