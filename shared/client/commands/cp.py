"""`cp`: copy files between a container and the local filesystem, as `docker cp`.

    cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-
    cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH

The daemon only stats, tars and untars (the archive API); the rules users know are the
client's, as docker's CopyInfo/PrepareArchiveCopy are:

- SRC a directory: copied as DEST if DEST does not exist, into DEST/ if it does;
  SRC ending in `/.` copies the directory's contents instead;
- SRC a file: onto DEST (a file, or a new name), or into DEST if it is a directory;
  DEST ending in `/` must then be an existing directory;
- `-` as SRC is a tar read from stdin, unpacked into the directory DEST; `-` as DEST
  writes the tar to stdout.

Locally the tar is unpacked by the daemon's own extractor (shared/daemon/extract.py),
descriptor by descriptor: what a container sends cannot write outside DEST.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tarfile
import threading

from shared.client.api import APIError, Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "cp",
    "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\twhalebones cp [OPTIONS] SRC_PATH|- "
    "CONTAINER:DEST_PATH",
    "Copy files/folders between a container and the local filesystem",
    [Flag("-a, --archive", "Archive mode (copy all uid/gid information)"),
     Flag("-L, --follow-link", "Always follow symbol link in SRC_PATH"),
     Flag("-q, --quiet", "Suppress progress output during copy")],
    min_args=2, max_args=2,
)
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27


class CopyError(Exception):
    pass


def _split(arg: str) -> tuple[str, str]:
    """docker's splitCpArg: CONTAINER:PATH, unless the path is local (absolute, or
    starting with `.`)."""
    if arg.startswith("/") or arg.startswith("."):
        return "", arg
    container, sep, path = arg.partition(":")
    return (container, path) if sep else ("", arg)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    src_container, src = _split(args[0])
    dst_container, dst = _split(args[1])
    try:
        if src_container and dst_container:
            raise CopyError("copying between containers is not supported")
        if not src_container and not dst_container:
            raise CopyError("must specify at least one container source")
        if src_container:
            _from_container(client, src_container, src, dst, options["follow_link"])
        else:
            _to_container(client, src, dst_container, dst, options["archive"],
                          options["follow_link"])
    except CopyError as error:
        print(str(error), file=sys.stderr)
        return 1
    except APIError as error:
        print(f"Error response from daemon: {error.message}", file=sys.stderr)
        return 1
    return 0


def _stat(client: Client, container: str, path: str) -> dict | None:
    """The daemon's stat of a path in the container; None when it does not exist."""
    response = client.stream("HEAD", f"/containers/{container}/archive",
                             query={"path": path})
    response.close()
    header = response.headers.get("x-docker-container-path-stat")
    return json.loads(base64.b64decode(header)) if header else None


def _asserts_dir(path: str) -> bool:
    return path.endswith("/") or os.path.basename(path) == "."


def _base(path: str) -> str:
    """The name a path's last element gives to what it names (".": the contents)."""
    stripped = path.rstrip("/")
    return os.path.basename(stripped) if stripped else "/"


# --- out of a container -------------------------------------------------------------


def _from_container(client: Client, container: str, src: str, dst: str,
                    follow: bool) -> None:
    if follow:
        stat = _stat(client, container, src)
        if stat and stat.get("linkTarget"):
            src = stat["linkTarget"] + ("/" if src.endswith("/") else "")
    response = client.stream("GET", f"/containers/{container}/archive",
                             query={"path": src})
    header = response.headers.get("x-docker-container-path-stat") or ""
    stat = json.loads(base64.b64decode(header)) if header else {}
    if dst == "-":
        for chunk in response.chunks():
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    src_is_dir = bool(stat.get("mode", 0) & GO_MODE_DIR)
    src_base = stat.get("name") or _base(src)
    dst_dir, rebase = _prepare_local(dst, src_is_dir, src_base)
    from shared.daemon.extract import Options, extract

    fd = os.open(dst_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        extract(_Chunks(response.chunks()), fd,  # type: ignore[arg-type]
                Options(lchown=False, rebase=rebase))
    finally:
        os.close(fd)


def _prepare_local(dst: str, src_is_dir: bool, src_base: str
                   ) -> tuple[str, tuple[str, str] | None]:
    """Where to unpack locally, and the rename of the tar's first component."""
    try:
        is_dir = os.path.isdir(dst)  # a symlink to a directory counts, as in docker
        exists = os.path.lexists(dst)
    except OSError:
        exists = is_dir = False
    if exists and is_dir:
        return dst, None  # into it (`d/.`'s entries, `./x`, land as its contents)
    if exists:
        if src_is_dir:
            raise CopyError("cannot copy a directory to a file")
        parent, base = os.path.split(os.path.abspath(dst))
        return parent, (src_base, base)
    if _asserts_dir(dst) and not src_is_dir:
        raise CopyError(f'no such directory: "{dst}"')
    parent, base = os.path.split(os.path.abspath(dst.rstrip("/") or "/"))
    if not os.path.isdir(parent):
        raise CopyError(f"lstat {parent}: no such file or directory")
    return parent, (src_base, base)


class _Chunks:
    """A file-like reader over a response's chunks."""

    def __init__(self, chunks: Any) -> None:
        self.chunks, self.buffer = iter(chunks), b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buffer) < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        if n < 0:
            data, self.buffer = self.buffer, b""
        else:
            data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data


# --- into a container ---------------------------------------------------------------


def _to_container(client: Client, src: str, container: str, dst: str, archive: bool,
                  follow: bool) -> None:
    from shared.client.jsonstream import send_file

    query = {"path": dst, "noOverwriteDirNonDir": "true",
             "copyUIDGID": "true" if archive else None}
    query = {k: v for k, v in query.items() if v is not None}
    client.request("GET", f"/containers/{container}/json")  # No such container: 404
    stat = _stat_or_none(client, container, dst)
    if stat and stat["mode"] & GO_MODE_SYMLINK and stat.get("linkTarget"):
        dst = stat["linkTarget"]
        stat = _stat_or_none(client, container, dst)
    if src == "-":
        if stat is None or not stat["mode"] & GO_MODE_DIR:
            raise CopyError(f'destination "{container}:{dst}" must be a directory')
        send_file(client, "PUT", f"/containers/{container}/archive", sys.stdin.buffer,
                  query=query).close()
        return
    if follow:
        src = os.path.realpath(src) + ("/." if src.endswith("/.") else "")
    if not os.path.lexists(src.rstrip("/") if src.endswith("/.") else src):
        raise CopyError(f"lstat {os.path.abspath(src)}: no such file or directory")
    src_is_dir = os.path.isdir(src) and not os.path.islink(src.rstrip("/"))
    dst_exists, dst_is_dir = stat is not None, bool(stat and stat["mode"] & GO_MODE_DIR)
    arcname = _base(src) if not src.endswith("/.") else "."
    if dst_exists and dst_is_dir:
        put_dir, name = dst, arcname
    elif dst_exists:
        if src_is_dir:
            raise CopyError("cannot copy a directory to a file")
        put_dir, name = os.path.dirname(dst.rstrip("/")) or "/", _base(dst)
    else:
        if _asserts_dir(dst) and not src_is_dir:
            raise CopyError(f'no such directory: "{dst}"')
        put_dir, name = os.path.dirname(dst.rstrip("/")) or "/", _base(dst)
    read_fd, write_fd = os.pipe()
    thread = threading.Thread(target=_write_tar, args=(src, name, write_fd), daemon=True)
    thread.start()
    with os.fdopen(read_fd, "rb") as body:
        send_file(client, "PUT", f"/containers/{container}/archive", body,
                  query={**query, "path": put_dir}).close()
    thread.join()


def _stat_or_none(client: Client, container: str, path: str) -> dict | None:
    """A HEAD's 404 has no body to say what is missing: the container was checked
    first (_to_container), so it is the path."""
    try:
        return _stat(client, container, path)
    except APIError as error:
        if error.status == 404:
            return None
        raise


def _write_tar(src: str, name: str, write_fd: int) -> None:
    """A tar of src whose first component is `name` (the contents, for `d/.`)."""
    try:
        with os.fdopen(write_fd, "wb") as out, tarfile.open(
                fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            source = src[:-2] or "/" if src.endswith("/.") else src
            if name == ".":
                tar.add(source, arcname=".", recursive=False)
                for child in sorted(os.listdir(source)):
                    tar.add(os.path.join(source, child), arcname=f"./{child}")
            else:
                tar.add(source, arcname=name)
    except BrokenPipeError:
        pass
