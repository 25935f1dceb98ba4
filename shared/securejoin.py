"""Resolve a path inside a root filesystem without ever leaving it.

An image is untrusted input: its /etc could be a symlink to the host's /etc, its
working directory a symlink to /root. Every path the daemon or a runtime touches in a
rootfs is resolved component by component, and a symlink is followed as if the
rootfs were `/` (what a process inside would see), never on the host. (runc uses the
filepath-securejoin library for the same job.)
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat


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


# --- reading a file the container controls ----------------------------------------------
#
# Resolving a path safely is half the job: the file at the end is the container's too.
# Between the resolution and the open a process in the container can swap a directory
# for a symlink, and what sits at the end may be a FIFO (an open that blocks until
# someone writes: a daemon thread hung for good), a character device such as /dev/zero
# (a read that never ends), or a block device node (the host's disk, read by root). So
# the file is opened as an O_PATH descriptor first, which opens nothing (no device
# driver is called, no FIFO waits), checked with fstat to be a regular file, and only
# then reopened for reading through /proc/self/fd: the same inode, never the path again.

O_PATH = getattr(os, "O_PATH", 0o10000000)
SYS_OPENAT2 = 437  # the same number on every Linux architecture (the generic table)
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_IN_ROOT = 0x10


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_openat2_missing = False


def _openat2_in_root(root_fd: int, path: str, flags: int) -> int | None:
    """openat2(2) with RESOLVE_IN_ROOT: the kernel resolves every component, symlinks
    and `..` included, as if root_fd were `/`, in one step that cannot be raced.
    None when the kernel (before 5.6) or a seccomp filter lacks it."""
    global _openat2_missing
    if _openat2_missing:
        return None
    how = _OpenHow(flags | os.O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
    fd = _libc.syscall(SYS_OPENAT2, root_fd, path.encode(), ctypes.byref(how),
                       ctypes.sizeof(how))
    if fd >= 0:
        return int(fd)
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EPERM):
        _openat2_missing = True
        return None
    raise OSError(err, os.strerror(err), path)


def open_in_root(root: str, unsafe: str) -> int:
    """An O_PATH descriptor of `unsafe` resolved inside `root` (the caller closes it).

    openat2(RESOLVE_IN_ROOT) where the kernel has it; else secure_join, then an
    O_NOFOLLOW open, so that a symlink put in place after the resolution is opened as
    itself (and refused by the caller's fstat), never followed out of the rootfs."""
    root_fd = os.open(root, O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fd = _openat2_in_root(root_fd, unsafe.lstrip("/") or ".", O_PATH)
    finally:
        os.close(root_fd)
    if fd is None:
        fd = os.open(secure_join(root, unsafe), O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    return fd


class NotRegularFile(OSError):
    """The path names a FIFO, a device, a directory or a symlink: not read."""


class FileTooLarge(OSError):
    """The file holds more bytes than the reader allows."""


def read_regular_file(root: str, unsafe: str, limit: int) -> bytes:
    """The bytes of the regular file `unsafe` inside `root`, at most `limit` of them.

    Raises FileNotFoundError (and other OSErrors) as open does, NotRegularFile for
    anything but a regular file, FileTooLarge past `limit`."""
    fd = open_in_root(root, unsafe)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file", unsafe)
        # O_NONBLOCK and O_NOCTTY cost nothing on a regular file and keep a swap that
        # no check above could see from blocking or taking a terminal.
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        reader = os.open(f"/proc/self/fd/{fd}", flags)
    finally:
        os.close(fd)
    with os.fdopen(reader, "rb") as f:
        data = f.read(limit + 1)  # one byte past: a file at the cap is whole, past it not
    if len(data) > limit:
        raise FileTooLarge(errno.EFBIG, f"file exceeds {limit} bytes", unsafe)
    return data


# --- holding what was resolved ------------------------------------------------------------
#
# `docker cp` works on a live container: while the daemon copies, a process inside can
# swap any directory on the way for a symlink to `/` (CVE-2018-15664: Docker resolved a
# path, then used the path string again, and the kernel followed the swapped link on the
# host). So nothing below hands a path string back to the kernel after resolving it: a
# path is resolved once, relative to a descriptor of the container's root, and the
# result is a descriptor; everything after works from descriptors, one name at a time
# with O_NOFOLLOW, where no swap can lead anywhere.


def open_beneath(root_fd: int, unsafe: str, flags: int = O_PATH) -> int:
    """`unsafe` resolved inside the directory root_fd, as if it were `/`: a descriptor
    opened with `flags` (add os.O_NOFOLLOW to hold a final symlink itself).

    openat2(RESOLVE_IN_ROOT) where the kernel has it; else a walk one component at a
    time from root_fd, each opened O_NOFOLLOW, a symlink's text read and walked again
    from the root (what RESOLVE_IN_ROOT does inside the kernel)."""
    relative = unsafe.lstrip("/") or "."
    fd = _openat2_in_root(root_fd, relative, flags)
    if fd is not None:
        return fd
    return _walk_beneath(root_fd, relative, flags)


def _walk_beneath(root_fd: int, path: str, flags: int) -> int:
    follow_last = not flags & os.O_NOFOLLOW
    parts = [p for p in path.split("/") if p]
    stack = [os.dup(root_fd)]  # the directories walked, root first: `..` pops one
    links = 0
    try:
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                if len(stack) > 1:
                    os.close(stack.pop())
                continue
            fd = os.open(part, O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=stack[-1])
            if stat.S_ISLNK(os.fstat(fd).st_mode) and (parts or follow_last):
                target = os.readlink(part, dir_fd=stack[-1])
                os.close(fd)
                links += 1
                if links > 40:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop())
                parts = [p for p in target.split("/") if p] + parts
                continue
            if parts and not stat.S_ISDIR(os.fstat(fd).st_mode):
                os.close(fd)
                raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
            stack.append(fd)
        if flags == O_PATH or flags == O_PATH | os.O_NOFOLLOW:
            return os.dup(stack[-1])
        # Reopen the held inode with the asked-for flags: never the path again.
        return os.open(f"/proc/self/fd/{stack[-1]}", (flags & ~os.O_NOFOLLOW) | os.O_CLOEXEC)
    finally:
        for fd in stack:
            os.close(fd)


def follow_in_scope(root_fd: int, unsafe: str) -> str:
    """The path `unsafe` names once every symlink on it is followed, inside root_fd's
    tree, as far as it goes (a broken link ends the walk with its target's name).
    moby's symlink.FollowSymlinkInScope, for the LinkTarget of `docker cp`'s stat;
    only link texts are read, each through a held descriptor."""
    parts = [p for p in unsafe.split("/") if p]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        parent = os.path.join("/", *resolved)
        try:
            dir_fd = open_beneath(root_fd, parent, O_PATH | os.O_DIRECTORY)
        except OSError:
            resolved.append(part)
            continue
        try:
            target = os.readlink(part, dir_fd=dir_fd)
        except OSError:  # not a symlink, or missing: kept as it is
            resolved.append(part)
            continue
        finally:
            os.close(dir_fd)
        links += 1
        if links > 255:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), unsafe)
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p] + parts
    return os.path.join("/", *resolved)
