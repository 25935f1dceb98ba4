"""Container routes: create, list, inspect, top, start, stop, kill, pause, wait, logs,
attach, rm, rename, prune, stats, update."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, jsonify, request

from shared.api import containerfilters, streams, views
from shared.api.containerfilters import ps_filters
from shared.api.params import accepted_filters, current_engine, json_body, qbool, qint
from shared.api.prunefilters import prune_filters
from shared.daemon import containerconfig, housekeeping, logdrivers, logs, stats, update
from shared.daemon.engine import Engine
from shared.daemon.executor import ExecutorError
from shared.detachkeys import DEFAULT, EscapeProxy, to_bytes
from shared.errors import Conflict, InvalidParameter, NotFound, NotImplementedYet

bp = Blueprint("containers", __name__)


@bp.post("/containers/create")
def container_create() -> Response:
    engine = current_engine()
    body = json_body()
    if request.args.get("platform"):
        _check_platform(engine, str(body.get("Image") or ""), request.args["platform"])
    version = request.environ.get("whalebones.api_version") or (1, 45)
    if version < (1, 44) and isinstance(body.get("Healthcheck"), dict):
        # StartInterval came with API 1.44: an older client's is ignored, as by dockerd
        body = {**body, "Healthcheck": {**body["Healthcheck"], "StartInterval": 0}}
    c = engine.create(request.args.get("name"), body)
    resp = jsonify(Id=c.id, Warnings=[])
    resp.status_code = 201
    return resp


def _check_platform(engine: Engine, image_ref: str, wanted: str) -> None:
    """`docker run --platform P`: the local image must be P's. Otherwise moby's 404
    (daemon/images/image.go GetImage), on which the CLI pulls P's image and tries again;
    a container of another platform than asked for is never made."""
    from shared.images.registry.pull import Platform

    platform = Platform.parse(wanted)  # a malformed one: 400
    try:
        image = engine.images.resolve(image_ref)
    except (LookupError, ValueError):
        return  # no such image: create says so, as it does without a platform
    variant = image.config.get("variant") or ""
    if not platform.matches({"os": image.os, "architecture": image.architecture,
                             "variant": variant}):
        actual = "/".join(p for p in (image.os, image.architecture, variant) if p)
        raise NotFound(f"image with reference {image_ref} was found but does not match "
                       f"the specified platform: wanted {platform}, actual: {actual}")


@bp.get("/containers/json")
def container_list() -> Response:
    engine = current_engine()
    filters = ps_filters(engine, accepted_filters(containerfilters.ACCEPTED))
    limit = qint("limit")
    # moby lists stopped containers too when asked for all, for a status, or for the
    # last N (`docker ps -n 3`, `docker ps -l`)
    show_all = qbool("all") or filters.implies_all or bool(limit and limit > 0)
    result = []
    for c in engine.containers.all():
        if not show_all and not (c.state.running or c.state.status == "restarting"):
            continue
        summary = views.summary(engine, c)
        if filters.keeps(engine, c, summary):
            if qbool("size"):
                summary.update(views.sizes(engine, c))
            result.append(summary)
    if limit and limit > 0:
        result = result[:limit]
    return jsonify(result)


@bp.get("/containers/<ref>/json")
def container_inspect(ref: str) -> Response:
    engine = current_engine()
    c = engine.containers.get(ref)
    found = views.inspect(engine, c)
    if qbool("size"):  # `docker inspect --size`
        found.update(views.sizes(engine, c))
    return jsonify(found)


@bp.post("/containers/<ref>/start")
def container_start(ref: str) -> Response:
    engine = current_engine()
    engine.start(ref)
    return Response(status=204)


@bp.post("/containers/<ref>/stop")
def container_stop(ref: str) -> Response:
    engine = current_engine()
    engine.stop(ref, _stop_timeout(), request.args.get("signal") or None)
    return Response(status=204)


@bp.post("/containers/<ref>/restart")
def container_restart(ref: str) -> Response:
    engine = current_engine()
    engine.restart(ref, _stop_timeout(), request.args.get("signal") or None)
    return Response(status=204)


def _stop_timeout() -> int | None:
    return containerconfig.check_stop_timeout(qint("t", qint("timeout")), "t")


@bp.post("/containers/<ref>/kill")
def container_kill(ref: str) -> Response:
    engine = current_engine()
    engine.kill(ref, request.args.get("signal"))
    return Response(status=204)


@bp.post("/containers/<ref>/pause")
def container_pause(ref: str) -> Response:
    current_engine().pause(ref)
    return Response(status=204)


@bp.post("/containers/<ref>/unpause")
def container_unpause(ref: str) -> Response:
    current_engine().unpause(ref)
    return Response(status=204)


@bp.get("/containers/<ref>/top")
def container_top(ref: str) -> Response:
    return jsonify(current_engine().top(ref, request.args.get("ps_args") or ""))


@bp.post("/containers/<ref>/resize")
def container_resize(ref: str) -> Response:
    engine = current_engine()
    engine.resize(ref, qint("h", 0) or 0, qint("w", 0) or 0)
    return Response(status=200)


@bp.delete("/containers/<ref>")
def container_delete(ref: str) -> Response:
    engine = current_engine()
    if qbool("link"):
        # `docker rm --link /parent/alias` removes a link, never a container. This
        # engine makes no links, so the only names there are a container's own, and
        # moby's rmLink refuses those ("/name": the parent is "/"). dockerd's error is
        # untyped, so a 500; here a refusal is never a server error: 409, its words.
        engine.containers.get(ref)  # No such container: 404
        raise Conflict("Conflict, cannot remove the default link name of the container")
    engine.remove(ref, force=qbool("force"), volumes=qbool("v"))
    return Response(status=204)


@bp.post("/containers/<ref>/rename")
def container_rename(ref: str) -> Response:
    housekeeping.rename(current_engine(), ref, request.args.get("name", ""))
    return Response(status=204)


@bp.post("/containers/<ref>/update")
def container_update(ref: str) -> Response:
    return jsonify(Warnings=update.update(current_engine(), ref, json_body()))


@bp.post("/containers/prune")
def container_prune() -> Response:
    # moby daemon/prune.go's containersAcceptedFilters
    filters = prune_filters({"label", "label!", "until"})
    return jsonify(housekeeping.prune(current_engine(), filters))


@bp.get("/containers/<ref>/stats")
def container_stats(ref: str) -> Response:
    """One reading a second while the container runs (stream=false: the second one,
    so that precpu_stats is filled; one-shot: the first, without it), as dockerd."""
    engine = current_engine()
    c = engine.containers.get(ref)
    stream = qbool("stream", True)
    one_shot = qbool("one-shot")
    if one_shot and stream:
        raise InvalidParameter("cannot have stream=true and one-shot=true")
    networked = (c.host_config.get("NetworkMode") or "") != "host"

    def reading() -> dict | None:
        pid = c.state.pid
        if not c.state.running or not pid:
            return None
        try:
            raw = engine.executor.metrics(c.id, pid)
        except ExecutorError:
            return None  # it exited meanwhile
        return stats.sample(c, pid, time.time, networked, raw)

    def body() -> Iterator[bytes]:
        previous = reading()
        if previous is None:
            yield json.dumps(stats.empty(c)).encode() + b"\n"
            return
        if stream or one_shot:
            yield json.dumps(stats.with_previous(dict(previous), None)).encode() + b"\n"
            if one_shot:
                return
        while True:
            time.sleep(1)  # dockerd's collector reads every second
            current = reading()
            if current is None:
                return
            yield json.dumps(stats.with_previous(current, previous)).encode() + b"\n"
            if not stream:
                return
            previous = current

    return Response(body(), mimetype="application/json")


@bp.post("/containers/<ref>/wait")
def container_wait(ref: str) -> Response:
    engine = current_engine()
    condition = request.args.get("condition") or "not-running"
    c = engine.containers.get(ref)  # 404 before the 200 headers go out
    if condition not in ("not-running", "next-exit", "removed"):
        raise InvalidParameter(f"invalid condition: {condition!r}")
    # Counted before the headers go out: a client that starts the container once it
    # has them must not see that start's exit missed (moby registers the wait first).
    exits = engine.exits_seen(c)

    def body() -> Iterator[bytes]:
        # The headers go out now, before the container even starts: the docker
        # CLI will not call start until it has them.
        yield b""
        done = engine.wait_for(c, condition, exits)
        error = {"Message": done.state.error} if done.state.error else None
        yield json.dumps({"StatusCode": done.state.exit_code, "Error": error}).encode()

    return Response(body(), mimetype="application/json")


@bp.get("/containers/<ref>/logs")
def container_logs(ref: str) -> Response:
    engine = current_engine()
    c = engine.containers.get(ref)
    wanted = {s for s in ("stdout", "stderr") if qbool(s)}
    if not wanted:
        raise InvalidParameter("Bad parameters: you must choose at least one stream")
    if not logdrivers.readable(c.host_config):
        raise NotImplementedYet("configured logging driver does not support reading")
    tail_arg = request.args.get("tail", "all")
    tail = None if tail_arg in ("all", "") else qint("tail")
    if tail is not None and tail < 0:
        tail = None
    follow, stamps, tty = qbool("follow"), qbool("timestamps"), bool(c.config.get("Tty"))
    # --since/--until: the CLI sends Unix times ("1700000000.000000000"); as in moby's
    # json-file reader, tail first, then drop what is outside them.
    since, until = _log_time("since"), _log_time("until")
    if until is not None and until <= time.time():
        follow = False  # nothing yet to come can be before it

    def body() -> Iterator[bytes]:
        start = since
        yield b""
        for entry in logs.read(
            engine.log_path(c),
            wanted,
            tail=tail,
            follow=follow,
            still_running=lambda: c.state.running and not engine.is_removed(c),
        ):
            if start is not None or until is not None:
                at = logs.entry_unix_time(entry)
                if start is not None:
                    if at < start:
                        continue
                    # moby's forwarder: from the first line in the window on, all
                    # (times need not be monotonic)
                    start = None
                if until is not None and at > until:
                    return
            data = entry.data
            if stamps:
                data = entry.time.encode() + b" " + data
            yield streams.encode(tty, entry.stream, data)

    mimetype = streams.RAW if tty else streams.MULTIPLEXED
    return Response(body(), mimetype=mimetype)


def _log_time(name: str) -> float | None:
    """moby's timetypes.ParseTimestamps: "SECONDS" or "SECONDS.NANOSECONDS"; 0 or
    absent: no limit."""
    value = request.args.get(name, "")
    if value in ("", "0"):
        return None
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]{1,9})?", value):
        raise InvalidParameter(f'invalid value for {name}: "{value}": expected seconds '
                               "since the epoch, as SECONDS[.NANOSECONDS]")
    return float(value)


@bp.post("/containers/<ref>/attach")
def container_attach(ref: str) -> Response:
    engine = current_engine()
    keys_text = request.args.get("detachKeys", "")
    try:
        keys = to_bytes(keys_text) if keys_text else DEFAULT
    except ValueError:
        # moby reads the keys first, and answers its attach errors as raw text
        return Response(f"Invalid detach keys ({keys_text}) provided\r\n", status=400,
                        mimetype=streams.RAW)
    c = engine.containers.get(ref)
    if c.state.status == "exited" and not qbool("logs"):
        raise Conflict("You cannot attach to a stopped container, start it first")
    tty = bool(c.config.get("Tty"))
    wanted = {s for s in ("stdout", "stderr") if qbool(s)}
    use_stdin = qbool("stdin") and bool(c.config.get("OpenStdin"))
    stream, with_logs = qbool("stream"), qbool("logs")
    out = engine.output(c)
    q = out.subscribe() if stream else None
    engine.events.container(c, "attach")

    def run(sock: socket.socket, read: Callable[[int], bytes]) -> None:
        try:
            if with_logs:
                for entry in logs.read(engine.log_path(c), wanted or {"stdout", "stderr"}):
                    sock.sendall(streams.encode(tty, entry.stream, entry.data))
            if q is None:
                return
            if use_stdin:
                def write(data: bytes) -> bool:
                    pio = engine.attach_io(c)
                    return pio.write_stdin(data) if pio else False

                def eof() -> None:
                    # moby closes the container's stdin at the client's end only
                    # without a TTY: a terminal's user ends input with Ctrl-D, and a
                    # client gone (or detached) leaves the shell for the next attach.
                    pio = engine.attach_io(c)
                    if pio and c.config.get("StdinOnce") and not tty:
                        pio.close_stdin()

                def detach() -> None:
                    # The client leaves; the container runs on with its stdin open.
                    engine.events.container(c, "detach")
                    out.unsubscribe(q)  # ends pump_output below, then the stream

                escape = EscapeProxy(keys) if tty else None
                streams.pump_input(read, write, eof, escape, detach)
            expected = {"stdout"} if tty else {"stdout", "stderr"}
            streams.pump_output(sock, q, tty, expected, wanted)
        finally:
            if q is not None:
                out.unsubscribe(q)

    resp = streams.hijack(tty, run)
    if q is not None:
        # Subscribed before the stream starts (docker run attaches before it starts
        # the container): a client gone before `run` began must not stay subscribed,
        # holding up the container's output (stdio.Subscription).
        resp.call_on_close(lambda: out.unsubscribe(q))
    return resp

