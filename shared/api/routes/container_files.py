"""A container's files: `docker cp` (the archive API), `docker diff`, `docker export`.

The daemon's side of each is in shared/daemon (copying.py, changes.py, containerfs.py,
treetar.py); these routes only read the request and stream the answer. A tar is made
while it is sent: a thread writes it into a pipe, the response reads the pipe, and
whatever was held for it (the container's root, a temporary mount) is released when
the last byte has gone, or when the client goes away.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

from flask import Blueprint, Response, jsonify, request

from shared.api.params import current_engine, qbool
from shared.daemon import changes, containerfs, copying
from shared.daemon.extract import Options
from shared.daemon.state import Container
from shared.daemon.treetar import TreeTar
from shared.errors import Conflict, EngineError, InvalidParameter
from shared.oci import users

bp = Blueprint("container_files", __name__)


@bp.route("/containers/<ref>/archive", methods=["GET", "HEAD", "PUT"])
def container_archive(ref: str) -> Response:
    engine = current_engine()
    c = engine.containers.get(ref)
    path = request.args.get("path") or ""
    if not path:
        raise InvalidParameter("bad parameter: path cannot be empty")
    held = contextlib.ExitStack()
    try:
        root = held.enter_context(containerfs.open_root(engine, c))
        if request.method == "HEAD":
            st = copying.stat_path(root, path, ref)
            held.close()
            return Response(status=200, headers={copying.PATH_STAT_HEADER: st.header()})
        if request.method == "PUT":
            _put(root, c, ref, path)
            held.close()
            return Response(status=200)
        st, write = copying.archive(root, path, ref)
    except BaseException:
        held.close()
        raise
    response = _streamed(write, held.close)
    response.headers[copying.PATH_STAT_HEADER] = st.header()
    return response


def _put(root: containerfs.ContainerRoot, c: Container, ref: str, path: str) -> None:
    # moby: overwriting a directory with a file is allowed unless noOverwriteDirNonDir
    # is given and true.
    allow = not qbool("noOverwriteDirNonDir")
    chown = None
    if qbool("copyUIDGID") and c.config.get("User"):
        try:
            user = users.resolve(f"/proc/self/fd/{root.fd}", c.config["User"])
        except (LookupError, ValueError, OSError) as e:
            raise InvalidParameter(str(e)) from None
        chown = (user.uid, user.gid)
    copying.extract_to_dir(root, path, ref, request.stream,  # type: ignore[arg-type]
                           Options(allow_overwrite_dir_with_file=allow, chown=chown),
                           readonly_rootfs=bool(c.host_config.get("ReadonlyRootfs")))


@bp.get("/containers/<ref>/changes")
def container_changes(ref: str) -> Response:
    engine = current_engine()
    c = engine.containers.get(ref)
    image = engine.images.resolve(c.image_id)
    lowers = list(reversed(engine.images.layer_dirs(image)))
    upper = os.path.join(engine.containers.dir(c.id), "upper")
    return jsonify(changes.container_changes(upper, lowers))


@bp.get("/containers/<ref>/export")
def container_export(ref: str) -> Response:
    engine = current_engine()
    c = engine.containers.get(ref)
    if engine.is_removed(c):
        raise Conflict(f"You cannot export container {c.id} which is being removed")
    held = contextlib.ExitStack()
    try:
        # moby exports the container's own layer, mounted anew: its files without the
        # volumes and binds mounted on them.
        live = engine.live(c.id)
        path = live.rootfs if live is not None else held.enter_context(
            containerfs.mounted(engine, c))
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        held.callback(os.close, fd)
    except OSError as e:
        held.close()
        raise EngineError(f"Error exporting container {ref}: {e}") from None
    except BaseException:
        held.close()
        raise

    def write(out: BinaryIO) -> None:
        with TreeTar(out, one_device=os.fstat(fd).st_dev) as tar:
            for name in sorted(os.listdir(fd)):
                tar.add(fd, name, name)

    return _streamed(write, held.close)


def _streamed(write: Callable[[BinaryIO], None], release: Callable[[], None]) -> Response:
    """A tar written by a thread into a pipe and sent as it comes."""
    read_fd, write_fd = os.pipe()

    def run() -> None:
        try:
            with os.fdopen(write_fd, "wb") as out:
                write(out)
        except BrokenPipeError:
            pass  # the client went away
        except Exception:  # noqa: BLE001 - the status is sent: a cut tar says it
            pass
        finally:
            release()

    threading.Thread(target=run, name="container-tar", daemon=True).start()
    pipe = os.fdopen(read_fd, "rb")

    def body() -> Iterator[bytes]:
        with pipe:
            while chunk := pipe.read(1 << 16):
                yield chunk

    return Response(body(), mimetype="application/x-tar")
