"""A container's writable layer as an image layer: its upper dir, written as a tar.

Everything a container wrote is in its overlay upper dir (snapshots.py), and a layer
is exactly that: the files added or changed, and the files deleted. Only the deletions
need translating, because overlayfs and image layers record them differently:

    overlayfs (in the upper dir)                 an OCI / Docker layer (in the tar)
    a character device 0/0 named NAME            an empty file named .wh.NAME
    a directory with trusted.overlay.opaque=y    the directory, and in it an empty
      (removed and made again: hide all below)     file named .wh..wh..opq

When the layer is unpacked under its image's other layers (unpack.py), a `.wh.NAME`
deletes NAME from the layers below and `.wh..wh..opq` empties its directory of them
(the OCI image spec's "whiteouts"). A tar cannot carry an overlay whiteout as is: a
0/0 device means nothing to another engine's storage, and xattrs in trusted.* need
CAP_SYS_ADMIN to restore.

The walk holds each directory open and opens each child by its one name, never
following a symlink (treetar.py): the upper dir is the container's, and a running
container may swap a directory for a symlink to the host's / while it is read.

The runtime's own mount points (/etc/hosts, /proc, ...) are left out: Docker keeps them
in an "init" layer of its own, never in what `docker commit` takes (changes.py).
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterable
from typing import BinaryIO

from shared.daemon.changes import INIT_PATHS, OPAQUE_XATTR
from shared.daemon.treetar import DIR_FLAGS, TreeTar

WHITEOUT_PREFIX = ".wh."
OPAQUE_WHITEOUT = ".wh..wh..opq"


def is_overlay_whiteout(st: os.stat_result) -> bool:
    """overlayfs marks a deleted file with a character device numbered 0/0."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def whiteout_entry(arcname: str, st: os.stat_result) -> tarfile.TarInfo:
    """The OCI whiteout for a deleted `arcname` ("etc/motd" -> "etc/.wh.motd"): an
    empty regular file, as moby's overlay whiteout converter writes it."""
    parent, _, name = arcname.rpartition("/")
    info = tarfile.TarInfo(f"{parent}/{WHITEOUT_PREFIX}{name}" if parent
                           else WHITEOUT_PREFIX + name)
    info.type, info.mode, info.size = tarfile.REGTYPE, 0o600, 0
    info.uid, info.gid, info.mtime = st.st_uid, st.st_gid, int(st.st_mtime)
    return info


def opaque_entry(dir_arcname: str, st: os.stat_result) -> tarfile.TarInfo:
    """The OCI marker of an opaque directory: `dir/.wh..wh..opq`, owned and moded as
    the directory (moby's converter copies them from the directory's header)."""
    info = tarfile.TarInfo(f"{dir_arcname}/{OPAQUE_WHITEOUT}")
    info.type, info.mode, info.size = tarfile.REGTYPE, stat.S_IMODE(st.st_mode), 0
    info.uid, info.gid, info.mtime = st.st_uid, st.st_gid, int(st.st_mtime)
    return info


def _is_opaque(dir_fd: int) -> bool:
    try:
        return os.getxattr(dir_fd, OPAQUE_XATTR) == b"y"
    except OSError:
        return False


class _Walk:
    def __init__(self, tar: TreeTar, lowers: list[str], skip: Iterable[str]) -> None:
        self.tar, self.lowers, self.skip = tar, lowers, frozenset(skip)
        self.entries = 0

    def _in_a_lower(self, rel: str) -> bool:
        return any(os.path.lexists(os.path.join(lower, rel)) for lower in self.lowers)

    def _only_mount_points(self, dir_fd: int, rel: str) -> bool:
        """A directory in the upper dir only because the runtime made mount points in
        it (overlayfs copied it up for them): not the container's change."""
        for name in os.listdir(dir_fd):
            child = f"{rel}/{name}"
            if "/" + child in self.skip:
                continue
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if not stat.S_ISDIR(st.st_mode):
                    return False
                fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
            except OSError:
                return False
            try:
                if _is_opaque(fd) or not self._only_mount_points(fd, child):
                    return False
            finally:
                os.close(fd)
        return True

    def directory(self, dir_fd: int, rel: str) -> None:
        """Archive the children of the held directory dir_fd, whose path is `rel`."""
        for name in sorted(os.listdir(dir_fd)):
            child = f"{rel}/{name}" if rel else name
            if "/" + child in self.skip:
                continue
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed meanwhile
            if is_overlay_whiteout(st):
                self.tar.add_info(whiteout_entry(child, st))
                self.entries += 1
            elif stat.S_ISDIR(st.st_mode):
                try:
                    fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
                except OSError:
                    continue  # swapped for a symlink or removed meanwhile: not followed
                try:
                    opaque = _is_opaque(fd)
                    if (not opaque and self._only_mount_points(fd, child)
                            and self._in_a_lower(child)):
                        continue
                    self.tar.add(dir_fd, name, child, recurse=False)
                    self.entries += 1
                    if opaque:
                        self.tar.add_info(opaque_entry(child, st))
                        self.entries += 1
                    self.directory(fd, child)
                finally:
                    os.close(fd)
            else:
                self.tar.add(dir_fd, name, child)
                self.entries += 1


def write_layer(upper: str, out: BinaryIO, lowers: list[str],
                skip: Iterable[str] = INIT_PATHS) -> int:
    """Write the upper dir `upper` to `out` as a layer tar (uncompressed), whiteouts
    converted; `lowers` are the image's unpacked layers (to tell a directory only
    copied up for a mount point from a new one). Returns the number of entries:
    0 is an empty layer, which an image records as history alone."""
    root = os.open(upper, DIR_FLAGS)
    try:
        with TreeTar(out) as tar:
            walk = _Walk(tar, lowers, skip)
            walk.directory(root, "")
    finally:
        os.close(root)
    return walk.entries
