"""Unpacking one image layer (a tar) into a directory overlayfs can stack.

A layer tar comes from strangers, and we unpack it as root: every entry is a chance to
write outside the layer dir. Python's `tarfile` has extraction filters, but the safe one
(`data`, 3.11.4+) is made for data archives: it drops owners and setuid bits and refuses
device nodes, all of which a root filesystem needs. So this module walks the tar itself
and checks each entry by these rules:

- names are relative and never contain `..`: `/etc/passwd` or `a/../../x` is refused;
- no entry is written *through* a symlink: every directory on the way to an entry must be
  a real directory, so `etc -> /etc` followed by `etc/passwd` is refused. Symlinks
  themselves may point anywhere (`/bin/sh -> /bin/busybox` is normal): they are only
  followed later, inside the container, whose root is the merged image;
- a hard link may only point at a file already unpacked from this same layer, by a name
  that obeys the same rules;
- a file is created with O_EXCL | O_NOFOLLOW after whatever had its name is removed, so
  an earlier symlink of the same name is replaced, never followed.

These lstat-based checks cannot be raced: the destination is a fresh temporary directory
that only this process writes to, renamed into place when the whole layer is done.

Image layers mark deletions with *whiteouts*, files named `.wh.NAME` (delete NAME from
the layers below) and `.wh..wh..opq` (hide everything below in this directory). Those
are the AUFS conventions the image format kept. Overlayfs has its own: a character
device 0:0 named NAME, and the xattr `trusted.overlay.opaque=y` on the directory. The
unpacker converts one into the other, so the layer dir can be a lowerdir as it is.

That makes `trusted.overlay.*` overlayfs's own metadata, read from the layer dirs by the
kernel: a layer that carried it (as `SCHILY.xattr.trusted.overlay.opaque` in a PAX
header) could hide the layers below without a whiteout, or with `...redirect` make a
directory show another one's contents. Only CAP_SYS_ADMIN may write the `trusted.`
namespace; an image is no administrator. So, as containerd's archive package (Docker's
unpacker with the containerd image store), every `trusted.*` xattr of a layer is
skipped; the others (`security.capability`, `user.*`) are kept as the image has them.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import shutil
import stat
import tarfile
from typing import BinaryIO

WHITEOUT_PREFIX = ".wh."
WHITEOUT_META_PREFIX = ".wh..wh."  # AUFS bookkeeping such as .wh..wh.plnk: skipped
WHITEOUT_OPAQUE = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"
PAX_XATTR_PREFIX = "SCHILY.xattr."
ADMIN_XATTR_PREFIX = "trusted."  # the administrator's namespace: never from a layer

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class UnsafeLayer(ValueError):
    """A layer entry would escape the layer dir, or the layer is not a layer at all."""


def decompressed(blob: BinaryIO) -> BinaryIO:
    """The uncompressed tar stream of a layer blob, whatever its compression.

    The media type could tell, but the first bytes never lie (Docker 20.10's own
    `docker save` calls gzip layers `layer.tar`)."""
    magic = blob.peek(4)[:4] if hasattr(blob, "peek") else b""
    if magic.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=blob, mode="rb")  # type: ignore[return-value]
    if magic == ZSTD_MAGIC:
        raise UnsafeLayer("zstd-compressed layers are not supported")
    return blob


class DigestingReader:
    """Passes reads through while computing the sha256 and size of everything read."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        """Read to the end: tar pads past its end-of-archive marker, and the digest
        covers every byte."""
        while self.read(1 << 20):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha256.hexdigest()


def scan(stream: BinaryIO) -> tuple[str, int]:
    """The diff_id (sha256 of the uncompressed tar) and the size Docker reports for a
    layer (the sum of its regular files), without unpacking it."""
    reader = DigestingReader(stream)
    size = 0
    with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
        for member in tar:
            if member.isreg():
                size += member.size
    reader.drain()
    return reader.digest, size


def unpack(stream: BinaryIO, dest: str) -> tuple[str, int]:
    """Unpack an uncompressed layer tar into the empty directory dest.

    Returns the layer's diff_id and size, as `scan` does. Raises UnsafeLayer for an
    entry that breaks the rules above; dest is then half-filled, and the caller, which
    made it as a temporary directory, removes it."""
    reader = DigestingReader(stream)
    size = 0
    directories: list[tuple[str, tarfile.TarInfo]] = []
    with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
        for member in tar:
            path = _unpack_entry(tar, member, dest)
            if path is not None and member.isdir():
                directories.append((path, member))
            if member.isreg():
                size += member.size
    reader.drain()
    # A directory's mtime changes whenever an entry is added to it: set them last,
    # deepest first.
    for path, member in reversed(directories):
        os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
    return reader.digest, size


def _unpack_entry(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: str) -> str | None:
    """Unpack one entry; return its path, or None when it is bookkeeping only."""
    parts = relative_parts(member.name, member.name)
    if not parts:  # "./": the layer's root directory itself
        if not member.isdir():
            raise UnsafeLayer(f"layer entry {member.name!r}: the root must be a directory")
        _set_attributes(dest, member)
        return dest
    parent = _walk_directories(dest, parts[:-1], member.name, create=True)
    name = parts[-1]

    if name == WHITEOUT_OPAQUE:
        os.setxattr(parent, OVERLAY_OPAQUE_XATTR, b"y")
        return None
    if name.startswith(WHITEOUT_META_PREFIX):
        return None
    if name.startswith(WHITEOUT_PREFIX):
        hidden = name[len(WHITEOUT_PREFIX) :]
        if hidden in ("", ".", ".."):
            raise UnsafeLayer(f"layer entry {member.name!r}: whiteout of {hidden!r}")
        path = os.path.join(parent, hidden)
        _remove(path)
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(0, 0))
        _chown(path, member)
        return None

    path = os.path.join(parent, name)
    existing = _lstat(path)
    if existing is not None and not (member.isdir() and stat.S_ISDIR(existing.st_mode)):
        _remove(path)

    if member.isdir():
        if existing is None or not stat.S_ISDIR(existing.st_mode):
            os.mkdir(path, 0o700)
    elif member.isreg():  # includes CONTTYPE, which Linux has no use for
        source = tar.extractfile(member)
        assert source is not None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(path, flags, 0o600), "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    elif member.issym():
        os.symlink(member.linkname, path)
    elif member.islnk():
        target_parts = relative_parts(member.linkname, member.name)
        if not target_parts:
            raise UnsafeLayer(f"layer entry {member.name!r}: hard link to the layer root")
        target_dir = _walk_directories(dest, target_parts[:-1], member.name, create=False)
        target = os.path.join(target_dir, target_parts[-1])
        if _lstat(target) is None:
            raise UnsafeLayer(
                f"layer entry {member.name!r}: hard link to {member.linkname!r}, "
                "which is not in this layer"
            )
        os.link(target, path, follow_symlinks=False)
        return path  # a hard link shares its target's inode, owner and mode
    elif member.ischr() or member.isblk():
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
        os.mknod(path, 0o600 | kind, os.makedev(member.devmajor, member.devminor))
    elif member.isfifo():
        os.mkfifo(path, 0o600)
    else:
        raise UnsafeLayer(f"layer entry {member.name!r}: unsupported type {member.type!r}")

    _set_attributes(path, member)
    return path


def relative_parts(name: str, entry: str) -> list[str]:
    """Split a name inside the layer into components, refusing any way out."""
    if name.startswith("/"):
        raise UnsafeLayer(f"layer entry {entry!r}: absolute path {name!r}")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeLayer(f"layer entry {entry!r}: '..' in {name!r} would leave the layer")
    return parts


def _walk_directories(dest: str, parts: list[str], entry: str, create: bool) -> str:
    """Follow parts down from dest, each of which must be a real directory (never a
    symlink). Missing ones are made 0755, as Docker does for tars that omit them."""
    path = dest
    for part in parts:
        path = os.path.join(path, part)
        st = _lstat(path)
        if st is None:
            if not create:
                raise UnsafeLayer(f"layer entry {entry!r}: {path} is not in this layer")
            os.mkdir(path, 0o755)
        elif stat.S_ISLNK(st.st_mode):
            raise UnsafeLayer(f"layer entry {entry!r}: would write through the symlink {part!r}")
        elif not stat.S_ISDIR(st.st_mode):
            raise UnsafeLayer(f"layer entry {entry!r}: {part!r} is not a directory")
    return path


def _set_attributes(path: str, member: tarfile.TarInfo) -> None:
    _chown(path, member)
    if not member.issym():  # Linux has no modes on symlinks
        # After chown, which clears the setuid and setgid bits.
        os.chmod(path, member.mode & 0o7777)
    for key, value in member.pax_headers.items():
        if key.startswith(PAX_XATTR_PREFIX + ADMIN_XATTR_PREFIX):
            continue
        if key.startswith(PAX_XATTR_PREFIX):
            try:
                os.setxattr(
                    path,
                    key[len(PAX_XATTR_PREFIX) :],
                    value.encode("utf-8", "surrogateescape"),
                    follow_symlinks=False,
                )
            except OSError as err:
                # As Docker: a filesystem without (this kind of) xattrs is not fatal.
                if err.errno not in (errno.ENOTSUP, errno.EPERM):
                    raise
    if not member.isdir():
        os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)


def _chown(path: str, member: tarfile.TarInfo) -> None:
    # Without root only our own uid is possible; as root the tar's owners are kept.
    if os.geteuid() == 0:
        os.lchown(path, member.uid, member.gid)


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _remove(path: str) -> None:
    st = _lstat(path)
    if st is None:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)
