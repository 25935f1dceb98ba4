"""Exec routes: one more process in a running container."""

from __future__ import annotations

import socket
from collections.abc import Callable

from flask import Blueprint, Response, jsonify

from shared.api import streams, views
from shared.api.params import current_engine, json_body, qint
from shared.daemon import gotypes
from shared.detachkeys import DEFAULT, EscapeProxy, to_bytes
from shared.errors import Conflict, EngineError

bp = Blueprint("execs", __name__)


@bp.post("/containers/<ref>/exec")
def exec_create(ref: str) -> Response:
    engine = current_engine()
    body = json_body()
    gotypes.check_body(body, gotypes.EXEC_CONFIG)
    if isinstance(body.get("Cmd"), str):  # strslice: one word, nothing split
        body["Cmd"] = [body["Cmd"]]
    ex = engine.execs.create(ref, body)
    resp = jsonify(Id=ex.id)
    resp.status_code = 201
    return resp


@bp.post("/exec/<exec_id>/start")
def exec_start(exec_id: str) -> Response:
    engine = current_engine()
    body = json_body()
    gotypes.check_body(body, gotypes.EXEC_START)
    ex = engine.execs.get(exec_id)
    tty = bool(body.get("Tty", ex.body.get("Tty")))
    if body.get("Detach"):
        engine.execs.start(exec_id, tty)
        return Response(status=200)
    if ex.running or ex.exit_code is not None:
        raise Conflict(f"Error: Exec command {ex.id} has already run")
    size = body.get("ConsoleSize")
    wanted = {s for s in ("stdout", "stderr") if ex.body.get(f"Attach{s.title()}", True)}

    def run(sock: socket.socket, read: Callable[[int], bytes]) -> None:
        # As dockerd does, the process starts only once the client has the 101:
        # output that raced ahead of the response head could be swallowed by the
        # client's HTTP parser. An error now goes into the stream itself.
        q = ex.output.subscribe()
        try:
            try:
                engine.execs.start(exec_id, tty)
            except EngineError as e:
                sock.sendall(streams.encode(tty, "stdout", f"{e.message}\r\n".encode()))
                return
            if tty and size and len(size) >= 2 and size[0] and size[1]:
                try:
                    engine.execs.resize(exec_id, int(size[0]), int(size[1]))
                except EngineError:
                    pass
            detached = False
            if ex.body.get("AttachStdin") and ex.io is not None:
                def detach() -> None:
                    # The client leaves; the process runs on (moby's exec_detach).
                    nonlocal detached
                    detached = True
                    c = engine.containers.get(ex.container_id)
                    engine.events.container(c, "exec_detach", execID=ex.id)
                    ex.output.unsubscribe(q)  # ends pump_output below

                keys = ex.body.get("DetachKeys") or ""  # checked at create
                escape = EscapeProxy(to_bytes(keys) if keys else DEFAULT) if tty else None
                # As for an attach, the client's end closes the process's stdin only
                # without a TTY (moby's CopyStreams).
                io = ex.io
                on_eof = (lambda: None) if tty else io.close_stdin
                streams.pump_input(read, io.write_stdin, on_eof, escape, detach)
            expected = {"stdout"} if tty else {"stdout", "stderr"}
            streams.pump_output(sock, q, tty, expected, wanted)
            if not detached:
                # Close the stream only once the exit code is known: the client asks
                # for it (GET /exec/{id}/json) as soon as the stream ends.
                ex.done.wait(10)
        finally:
            ex.output.unsubscribe(q)

    return streams.hijack(tty, run)


@bp.post("/exec/<exec_id>/resize")
def exec_resize(exec_id: str) -> Response:
    engine = current_engine()
    engine.execs.resize(exec_id, qint("h", 0) or 0, qint("w", 0) or 0)
    return Response(status=200)


@bp.get("/exec/<exec_id>/json")
def exec_inspect(exec_id: str) -> Response:
    engine = current_engine()
    return jsonify(views.exec_inspect(engine.execs.get(exec_id)))
