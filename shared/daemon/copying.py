"""`docker cp`'s half in the daemon: the archive API (moby's daemon/archive*.go).

    HEAD /containers/{id}/archive?path=P   stat P: X-Docker-Container-Path-Stat
    GET  /containers/{id}/archive?path=P   the same header, and a tar of P
    PUT  /containers/{id}/archive?path=D   unpack the body's tar into the directory D

The daemon's rules are few: the client (the docker CLI, ours) decides the rest, from
the stat, as moby's CopyInfo does (trailing `/.`, a missing destination, a file onto a
directory). A path is resolved once inside the container's root (containerfs.py) and
held as a descriptor; the tar is written (treetar.py) and unpacked (extract.py) from
descriptors only.

The tar of P is rebased as go-archive's TarResourceRebaseOpts does: the entry for P
itself is named for P's last component (`/etc` -> `etc/`, `etc/passwd`...), a path
ending in `/.` gives `./`, `./passwd`, and a non-directory is one entry of its name.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import posixpath
import stat
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from shared.daemon.containerfs import ContainerRoot
from shared.daemon.extract import Options, OverwriteRefused, extract
from shared.daemon.treetar import TreeTar
from shared.errors import EngineError, InvalidParameter, NotFound
from shared.images.unpack import UnsafeLayer
from shared.securejoin import O_PATH, follow_in_scope, open_beneath

# Go's os.FileMode bits, which PathStat.Mode carries (not the kernel's S_IF* bits).
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27
GO_MODE_DEVICE = 1 << 26
GO_MODE_NAMED_PIPE = 1 << 25
GO_MODE_SOCKET = 1 << 24
GO_MODE_SETUID = 1 << 23
GO_MODE_SETGID = 1 << 22
GO_MODE_CHAR_DEVICE = 1 << 21
GO_MODE_STICKY = 1 << 20
PATH_STAT_HEADER = "X-Docker-Container-Path-Stat"


def go_file_mode(st_mode: int) -> int:
    """The kernel's st_mode as Go's os.FileMode (what `docker cp` decodes)."""
    mode = st_mode & 0o777
    fmt = stat.S_IFMT(st_mode)
    mode |= {stat.S_IFDIR: GO_MODE_DIR, stat.S_IFLNK: GO_MODE_SYMLINK,
             stat.S_IFIFO: GO_MODE_NAMED_PIPE, stat.S_IFSOCK: GO_MODE_SOCKET,
             stat.S_IFBLK: GO_MODE_DEVICE,
             stat.S_IFCHR: GO_MODE_DEVICE | GO_MODE_CHAR_DEVICE}.get(fmt, 0)
    if st_mode & stat.S_ISUID:
        mode |= GO_MODE_SETUID
    if st_mode & stat.S_ISGID:
        mode |= GO_MODE_SETGID
    if st_mode & stat.S_ISVTX:
        mode |= GO_MODE_STICKY
    return mode


def go_time(ts: float) -> str:
    """A time as Go's JSON has it (RFC 3339 with nanoseconds, trailing zeros dropped)."""
    ns = int(round(ts * 1e9))
    whole, nanos = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text + "Z"


def clean_path(path: str) -> str:
    """filepath.Join("/", path), keeping a trailing `/.` or `/` (moby's
    PreserveTrailingDotOrSeparator): the client's way to say "a directory"."""
    cleaned = posixpath.normpath("/" + path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if _base(path) == "." and _base(cleaned) != ".":
        cleaned = cleaned.rstrip("/") + "/."
    if path.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    return cleaned


@dataclass(frozen=True)
class PathStat:
    name: str
    size: int
    mode: int
    mtime: str
    link_target: str

    def header(self) -> str:
        """The base64 JSON of X-Docker-Container-Path-Stat, moby's field names."""
        body = {"name": self.name, "size": self.size, "mode": self.mode,
                "mtime": self.mtime, "linkTarget": self.link_target}
        return base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()


def _base(path: str) -> str:
    """Go's filepath.Base: the last element, trailing slashes dropped; "/" for root."""
    stripped = path.rstrip("/")
    return posixpath.basename(stripped) if stripped else "/"


def not_found(path: str, ref: str) -> NotFound:
    return NotFound(f"Could not find the file {path} in container {ref}")


def _errors(path: str, ref: str, e: OSError) -> EngineError:
    """moby: a missing path is a 404 with its words. A path that cannot be walked (a
    file named as a directory, a loop of links, a magic link refused) is the request's
    fault: 400 (moby answers 500, an untyped error; here a refusal is never a server
    error). Anything else is the system's."""
    if e.errno == errno.ENOENT:
        return not_found(path, ref)
    if e.errno in (errno.ENOTDIR, errno.ELOOP, errno.EXDEV, errno.ENAMETOOLONG):
        return InvalidParameter(f"{e.strerror or e}: {path}")
    return EngineError(f"{e.strerror or e}: {path}")


def hold(root: ContainerRoot, path: str, ref: str) -> tuple[int, PathStat]:
    """The held O_PATH descriptor of `path` (a final symlink held itself, as lstat
    sees it) and its stat. The caller closes the descriptor."""
    abs_path = clean_path(path)
    try:
        fd = open_beneath(root.fd, abs_path, O_PATH | os.O_NOFOLLOW)
    except OSError as e:
        raise _errors(path, ref, e) from None
    st = os.fstat(fd)
    target = follow_in_scope(root.fd, abs_path) if stat.S_ISLNK(st.st_mode) else ""
    return fd, PathStat(name=_base(abs_path),
                        size=st.st_size, mode=go_file_mode(st.st_mode),
                        mtime=go_time(st.st_mtime), link_target=target)


def stat_path(root: ContainerRoot, path: str, ref: str) -> PathStat:
    fd, st = hold(root, path, ref)
    os.close(fd)
    return st


def archive(root: ContainerRoot, path: str, ref: str
            ) -> tuple[PathStat, Callable[[BinaryIO], None]]:
    """The stat of `path` and a function writing its tar: the path is resolved and
    held now (a missing one is the caller's 404 before any byte is sent)."""
    fd, st = hold(root, path, ref)
    abs_path = clean_path(path)
    if st.mode & GO_MODE_DIR:
        base = _base(abs_path)  # "." for `d/.`: entries `./`, `./f`
        arcname = "" if base == "/" else base
    else:
        arcname = _base(abs_path)

    def write(out: BinaryIO) -> None:
        try:
            with TreeTar(out) as tar:
                tar.add_held(fd, arcname)
        finally:
            os.close(fd)

    return st, write


def extract_to_dir(root: ContainerRoot, path: str, ref: str, stream: BinaryIO,
                   options: Options, readonly_rootfs: bool) -> None:
    """Unpack `stream` into the directory `path` (a final symlink followed: a tar can
    be unpacked into a link to a directory, as moby's EvalSymlinks does)."""
    abs_path = clean_path(path)
    try:
        fd = open_beneath(root.fd, abs_path, O_PATH)
    except OSError as e:
        raise _errors(path, ref, e) from None
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            raise InvalidParameter("extraction point is not a directory")
        check_writable(root, abs_path, readonly_rootfs)
        try:
            extract(stream, fd, options)
        except (UnsafeLayer, OverwriteRefused, tarfile.TarError) as e:
            # A tar that breaks the rules, or is no tar: the request's fault (moby: 500).
            raise InvalidParameter(str(e)) from None
        except OSError as e:
            if e.errno == errno.EROFS:
                raise InvalidParameter("container rootfs is marked read-only") from None
            raise EngineError(f"extracting into {path}: {e.strerror or e}") from None
    finally:
        os.close(fd)


def check_writable(root: ContainerRoot, abs_path: str, readonly_rootfs: bool) -> None:
    """moby's checkWritablePath: a path in a mount follows that mount's mode, anything
    else the rootfs's (`--read-only`)."""
    path = posixpath.normpath(abs_path)
    for bind in sorted(root.binds, key=lambda b: len(b.destination), reverse=True):
        dest = posixpath.normpath(bind.destination)
        if path == dest or path.startswith(dest.rstrip("/") + "/"):
            if bind.readonly:
                raise InvalidParameter("mounted volume is marked read-only")
            return
    if readonly_rootfs:
        raise InvalidParameter("container rootfs is marked read-only")
