"""Unpacking a tar sent by `docker cp` into a live container, through held descriptors.

An image layer is unpacked into a fresh directory only the daemon writes (unpack.py);
`docker cp` unpacks into a directory the container's processes can change while the
daemon writes. So the layer rules are kept (unpack.relative_parts: no `..`, nothing
written through a symlink; the same xattr rule) and every step is done from a held
directory descriptor, one name at a time with O_NOFOLLOW:

- each directory on the way to an entry is opened O_PATH|O_NOFOLLOW|O_DIRECTORY from
  the one before: a symlink there (planted or swapped in) fails the open, never leads
  out;
- a file is created O_EXCL|O_NOFOLLOW relative to its directory's descriptor;
- owners, modes, times and xattrs are set through the entry's own descriptor
  (/proc/self/fd/N names the inode, not a path), never by a path a swap could redirect;
- a hard link's target is walked the same way inside the destination.

Docker's own rules for cp on top (go-archive's Unpack): an absolute name is taken
relative to the destination, a relative symlink may not point above it, and
`noOverwriteDirNonDir` refuses to replace a directory by a file or the reverse.
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from shared.images.unpack import ADMIN_XATTR_PREFIX, PAX_XATTR_PREFIX, UnsafeLayer, relative_parts
from shared.securejoin import O_PATH, open_beneath

WALK_FLAGS = O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC


class OverwriteRefused(OSError):
    """noOverwriteDirNonDir: an entry would replace a directory by a file, or the reverse."""


@dataclass(frozen=True)
class Options:
    allow_overwrite_dir_with_file: bool = True
    chown: tuple[int, int] | None = None  # copyUIDGID: every entry owned by the user
    lchown: bool = True  # the owners in the tar kept (the client side, as docker's, not)
    rebase: tuple[str, str] | None = None  # a first name component replaced (the client's)
    # A build context is unpacked in a chroot by dockerd, where a relative symlink above
    # the root only leads back to the root: kept as written (never followed here).
    symlinks_above_root: bool = False


def extract(stream: BinaryIO, dest_fd: int, options: Options,
            check: Callable[[tarfile.TarInfo], None] | None = None) -> None:
    """Unpack the tar (any compression tarfile detects) into the held directory.
    `check` sees each entry first and may refuse it by raising (a build context refuses
    device nodes and counts bytes)."""
    directories: list[tuple[str, float]] = []
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            if check is not None:
                check(member)
            rel = _extract_entry(tar, member, dest_fd, options)
            if rel is not None and member.isdir():
                directories.append((rel, member.mtime))
    # A directory's mtime changes with every entry added to it: set them last.
    for rel, mtime in reversed(directories):
        try:
            fd = open_beneath(dest_fd, rel, O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY)
        except OSError:
            continue  # changed meanwhile by the container: not ours to fix
        try:
            os.utime(f"/proc/self/fd/{fd}", (mtime, mtime))
        finally:
            os.close(fd)


def _extract_entry(tar: tarfile.TarFile, member: tarfile.TarInfo, dest_fd: int,
                   options: Options) -> str | None:
    parts = _rebased(relative_parts(member.name.lstrip("/"), member.name), member, options)
    if not parts:
        return None  # "./": the destination itself, which exists
    if member.issym() and not options.symlinks_above_root:
        _check_symlink(member, parts)
    parent = _walk(dest_fd, parts[:-1], member.name, create=True)
    try:
        name = parts[-1]
        existing = _lstat(parent, name)
        if existing is not None:
            is_dir = stat.S_ISDIR(existing.st_mode)
            if not options.allow_overwrite_dir_with_file:
                if is_dir and not member.isdir():
                    raise OverwriteRefused(errno.EEXIST, "cannot overwrite directory "
                                           f"{'/'.join(parts)!r} with non-directory "
                                           f"{member.name!r}")
                if not is_dir and member.isdir():
                    raise OverwriteRefused(errno.EEXIST, "cannot overwrite non-directory "
                                           f"{'/'.join(parts)!r} with directory "
                                           f"{member.name!r}")
            if not (is_dir and member.isdir()):
                _remove(parent, name, is_dir)
                existing = None
        _create(tar, member, parent, name, dest_fd, existing is not None, options)
        _set_attributes(parent, name, member, options)
    finally:
        os.close(parent)
    return "/".join(parts)


def _rebased(parts: list[str], member: tarfile.TarInfo, options: Options) -> list[str]:
    """The client's rebase (docker's RebaseArchiveEntries): `d/x` -> `newname/x`; a
    source given as `d/.` comes as `./x`, whose first component is the empty one."""
    if options.rebase is None:
        return parts
    old, new = options.rebase
    if old in (".", "/"):  # the contents of a directory, or of the root (`/`, `/bin`)
        return relative_parts(new, member.name) + parts
    if parts and parts[0] == old:
        return relative_parts(new, member.name) + parts[1:]
    return parts


def _check_symlink(member: tarfile.TarInfo, parts: list[str]) -> None:
    """go-archive: a relative symlink may not point above the destination (an absolute
    one is resolved inside the container's root, as everything there is)."""
    if member.linkname.startswith("/"):
        return
    target = posixpath.normpath(posixpath.join("/".join(parts[:-1]), member.linkname))
    if target == ".." or target.startswith("../"):
        raise UnsafeLayer(f"invalid symlink {member.name!r} -> {member.linkname!r}")


def _walk(dest_fd: int, parts: list[str], entry: str, create: bool) -> int:
    """A descriptor of dest/parts, every component a real directory, never a symlink;
    missing ones made 0755 (as Docker does for tars that omit them)."""
    fd = os.dup(dest_fd)
    for part in parts:
        try:
            try:
                nxt = os.open(part, WALK_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o755, dir_fd=fd)
                nxt = os.open(part, WALK_FLAGS, dir_fd=fd)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.ENOTDIR, errno.ELOOP):
                raise UnsafeLayer(f"tar entry {entry!r}: {part!r} is not a directory "
                                  "(a symlink is never written through)") from None
            raise
        os.close(fd)
        fd = nxt
    return fd


def _create(tar: tarfile.TarFile, member: tarfile.TarInfo, parent: int, name: str,
            dest_fd: int, exists: bool, options: Options) -> None:
    if member.isdir():
        if not exists:
            os.mkdir(name, 0o700, dir_fd=parent)
    elif member.isreg():
        source = tar.extractfile(member)
        assert source is not None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(name, flags, 0o600, dir_fd=parent), "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    elif member.issym():
        os.symlink(member.linkname, name, dir_fd=parent)
    elif member.islnk():
        target = _rebased(relative_parts(member.linkname.lstrip("/"), member.name), member,
                          options)
        if not target:
            raise UnsafeLayer(f"tar entry {member.name!r}: hard link to the destination")
        target_dir = _walk(dest_fd, target[:-1], member.name, create=False)
        try:
            st = _lstat(target_dir, target[-1])
            if st is None or stat.S_ISDIR(st.st_mode):
                raise UnsafeLayer(f"invalid hardlink {member.name!r} -> {member.linkname!r}")
            os.link(target[-1], name, src_dir_fd=target_dir, dst_dir_fd=parent,
                    follow_symlinks=False)
        finally:
            os.close(target_dir)
    elif member.ischr() or member.isblk():
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
        os.mknod(name, 0o600 | kind, os.makedev(member.devmajor, member.devminor),
                 dir_fd=parent)
    elif member.isfifo():
        os.mkfifo(name, 0o600, dir_fd=parent)
    else:
        raise UnsafeLayer(f"tar entry {member.name!r}: unsupported type {member.type!r}")


def _set_attributes(parent: int, name: str, member: tarfile.TarInfo, options: Options) -> None:
    uid, gid = options.chown or (member.uid, member.gid)
    if member.issym():
        # Linux has no modes on symlinks; the owner and times of the link itself.
        if options.lchown:
            os.chown(name, uid, gid, dir_fd=parent, follow_symlinks=False)
        os.utime(name, (member.mtime, member.mtime), dir_fd=parent, follow_symlinks=False)
        return
    fd = os.open(name, O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    try:
        if stat.S_ISLNK(os.fstat(fd).st_mode):
            return  # swapped for a symlink by the container since it was made: left
        inode = f"/proc/self/fd/{fd}"  # the inode just made, whatever its name is now
        if options.lchown:
            os.chown(inode, uid, gid)
        os.chmod(inode, member.mode & 0o7777)  # after chown, which clears setuid/setgid
        for key, value in member.pax_headers.items():
            if not key.startswith(PAX_XATTR_PREFIX) or key.startswith(
                    PAX_XATTR_PREFIX + ADMIN_XATTR_PREFIX):
                continue
            try:
                os.setxattr(inode, key[len(PAX_XATTR_PREFIX):],
                            value.encode("utf-8", "surrogateescape"))
            except OSError as err:
                if err.errno not in (errno.ENOTSUP, errno.EPERM):
                    raise
        if not member.isdir():
            os.utime(inode, (member.mtime, member.mtime))
    finally:
        os.close(fd)


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _remove(parent: int, name: str, is_dir: bool) -> None:
    if is_dir:
        # shutil.rmtree with dir_fd walks by descriptors too (its symlink-attack-safe
        # variant): a symlink swapped into the tree is unlinked, not followed.
        shutil.rmtree(name, dir_fd=parent)
    else:
        os.unlink(name, dir_fd=parent)
