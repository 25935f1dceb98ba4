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
