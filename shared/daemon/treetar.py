"""Writing a tree the container controls into a tar, from held descriptors.

`docker cp` out of a container and `docker export` read a tree that a process inside
may be changing while the daemon reads it. Nothing here ever passes a path with more
than one component to the kernel: each directory is held open, each child is opened
relative to it by its single name with O_NOFOLLOW, so a directory swapped for a
symlink during the walk is met as the symlink it has become (and archived as one),
never followed onto the host. A FIFO or a device is archived as its header only:
it is never opened (an open of a FIFO blocks, a read of /dev/zero never ends).

The entries are moby's (go-archive's addTarFile): directories end in `/`, mtimes in
whole seconds, a file with several hard links is archived once and then as links to
that first name, `security.capability` travels as a PAX xattr record.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import tarfile
from dataclasses import dataclass, field
from typing import BinaryIO

from shared.libc import check, libc

CAPABILITY_XATTR = "security.capability"
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a file swapped for a FIFO between the lstat and the open does not block.
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


@dataclass
class TreeTar:
    """One tar being written: the stream and the inodes already in it."""

    out: BinaryIO
    one_device: int | None = None  # export: stay on the root's filesystem (no mounts)
    _links: dict[tuple[int, int], str] = field(default_factory=dict)
    _tar: tarfile.TarFile | None = None

    def __enter__(self) -> TreeTar:
        self._tar = tarfile.open(fileobj=self.out, mode="w|", format=tarfile.PAX_FORMAT)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._tar is not None
        self._tar.close()

    def add(self, parent_fd: int, name: str, arcname: str, recurse: bool = True) -> None:
        """Archive the entry `name` of the held directory parent_fd (and, for a
        directory, everything under it unless not `recurse`) as `arcname`."""
        try:
            st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        except FileNotFoundError:
            return  # removed meanwhile: a live tree, as moby logs and goes on
        self._add(parent_fd, name, arcname, st, recurse)

    def add_info(self, info: tarfile.TarInfo) -> None:
        """An entry made by the caller, without contents (a layer's whiteout file)."""
        assert self._tar is not None
        self._tar.addfile(info)

    def add_held(self, fd: int, arcname: str) -> None:
        """Archive what the O_PATH descriptor fd holds (a resolved copy source)."""
        self._add(fd, "", arcname, os.fstat(fd))

    def _add(self, parent_fd: int, name: str, arcname: str, st: os.stat_result,
             recurse: bool = True) -> None:
        assert self._tar is not None
        info = tarfile.TarInfo(arcname)
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.uname = info.gname = ""
        info.mtime = int(st.st_mtime)
        fmt = stat.S_IFMT(st.st_mode)
        key = (st.st_dev, st.st_ino)
        if fmt != stat.S_IFDIR and st.st_nlink > 1 and key in self._links:
            info.type, info.linkname = tarfile.LNKTYPE, self._links[key]
            self._tar.addfile(info)
            return
        if fmt == stat.S_IFDIR:
            if self.one_device is not None and st.st_dev != self.one_device:
                return  # a mount point: not the container's own filesystem
            info.type = tarfile.DIRTYPE
            info.name = arcname.rstrip("/") + "/"
            self._tar.addfile(info)
            if not recurse:
                return
            fd = self._open(parent_fd, name, DIR_FLAGS)
            if fd is None:
                return
            try:
                if name and _filesystem(fd) in KERNEL_FILESYSTEMS:
                    return  # a mount point of the kernel's: archived empty, as Docker
                for child in sorted(os.listdir(fd)):
                    self.add(fd, child, f"{arcname.rstrip('/')}/{child}")
            finally:
                os.close(fd)
            return
        if st.st_nlink > 1:
            self._links[key] = arcname
        if fmt == stat.S_IFREG:
            fd = self._open(parent_fd, name, FILE_FLAGS)
            if fd is None:
                return
            with os.fdopen(fd, "rb") as f:
                now = os.fstat(f.fileno())
                if not stat.S_ISREG(now.st_mode):
                    return  # swapped for something else since the lstat: skipped
                info.size = now.st_size
                try:
                    cap = os.getxattr(f.fileno(), CAPABILITY_XATTR)
                    info.pax_headers = {"SCHILY.xattr." + CAPABILITY_XATTR: cap.decode(
                        "utf-8", "surrogateescape")}
                except OSError:
                    pass
                self._tar.addfile(info, _Exactly(f, now.st_size))
            return
        if fmt == stat.S_IFLNK:
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(name, dir_fd=parent_fd) if name else _readlink(parent_fd)
        elif fmt in (stat.S_IFCHR, stat.S_IFBLK):
            info.type = tarfile.CHRTYPE if fmt == stat.S_IFCHR else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif fmt == stat.S_IFIFO:
            info.type = tarfile.FIFOTYPE
        else:
            return  # a socket: tar has no type for it (moby skips them too)
        self._tar.addfile(info)

    @staticmethod
    def _open(parent_fd: int, name: str, flags: int) -> int | None:
        """Open a child by its one name, or the held entry itself when name is ""."""
        try:
            if not name:  # parent_fd is the O_PATH handle of the entry: reopen that inode
                return os.open(f"/proc/self/fd/{parent_fd}", flags & ~os.O_NOFOLLOW)
            return os.open(name, flags, dir_fd=parent_fd)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.ENXIO):
                return None  # gone or swapped for a symlink meanwhile: not followed
            raise


# A running container's root (/proc/<pid>/root) has the kernel's filesystems mounted
# in it: /proc, /sys, cgroups. Docker's view of a container for `docker cp` has only
# its layers and volumes, where they are empty directories; walking them would archive
# the kernel's state (thousands of /proc entries, sysfs's host-wide tree). A copy that
# names a path inside one is still served: only a walk into one stops at its door.
KERNEL_FILESYSTEMS = frozenset({
    0x9FA0,  # proc
    0x62656572,  # sysfs
    0x27E0EB,  # cgroup
    0x63677270,  # cgroup2
    0x1CD1,  # devpts
    0x19800202,  # mqueue
    0x73636673,  # securityfs
    0x64626720,  # debugfs
    0x74726163,  # tracefs
    0xCAFE4A11,  # bpf
})


def _filesystem(fd: int) -> int:
    """The f_type of the filesystem a descriptor is on (fstatfs(2); Python has
    os.fstatvfs, which leaves the type out)."""
    buf = ctypes.create_string_buffer(256)  # struct statfs: f_type first, a long
    check(libc.fstatfs(fd, buf), "fstatfs")
    return ctypes.c_ulong.from_buffer(buf).value & 0xFFFFFFFF


def _readlink(fd: int) -> str:
    """The text of the symlink an O_PATH|O_NOFOLLOW descriptor holds: readlinkat(fd, "")
    (Linux 2.6.39+), which Python's os.readlink will not pass."""
    buf = ctypes.create_string_buffer(4096)
    n = check(libc.readlinkat(fd, b"", buf, len(buf)), "readlinkat")
    return buf.raw[:n].decode("utf-8", "surrogateescape")


class _Exactly:
    """A file's bytes, exactly as many as its header announced: a file that grows or
    shrinks during the copy must not break the tar (moby copies the size it stat'd)."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f, self.left = f, size

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        if not data:
            data = b"\0" * n  # shrunk: padded
        self.left -= len(data)
        return data

