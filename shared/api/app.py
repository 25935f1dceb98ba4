"""The Docker Engine API, as Flask routes over the daemon's `Engine`.

Only the HTTP lives here: parsing query strings and bodies, status codes, streaming.
Every decision about containers is the engine's. The routes follow Docker's API
reference (v1.45) and what the real docker CLI and docker-py send (CONTRACTS.md).
"""

from __future__ import annotations

import json
import os
import platform
import re

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from shared.api import streams, views
from shared.daemon import logs
from shared.daemon.engine import Engine
from shared.daemon.errors import Conflict, EngineError, InvalidParameter, NotFound
from shared.images import store as image_store

API_VERSION = "1.45"
MIN_API_VERSION = "1.24"
VERSION = "0.1.0"
_VERSIONED = re.compile(r"^/v(\d+)\.(\d+)(/.*)$")


def qbool(name: str, default: bool = False) -> bool:
    """Docker's query booleans: false only for "", 0, no, false, none (any case)."""
    value = request.args.get(name)
    if value is None:
        return default
    return value.strip().lower() not in ("", "0", "no", "false", "none")


def qint(name: str, default: int | None = None) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidParameter(f"invalid value for {name}: {value!r}") from None


def json_body() -> dict:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as e:
        raise InvalidParameter(f"invalid JSON: {e}") from None
    if not isinstance(body, dict):
        raise InvalidParameter("invalid JSON: the body must be an object")
    return body


class VersionPrefix:
    """WSGI middleware: `/v1.45/containers/json` -> `/containers/json`.

    Every route exists with and without the version, as in Docker; the version asked
    for is checked against what this daemon speaks.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response):  # type: ignore[no-untyped-def]
        m = _VERSIONED.match(environ.get("PATH_INFO", ""))
        if m:
            asked = (int(m.group(1)), int(m.group(2)))
            environ["PATH_INFO"] = m.group(3)
            error = None
            if asked > tuple(map(int, API_VERSION.split("."))):
                error = (
                    f"client version {m.group(1)}.{m.group(2)} is too new. Maximum "
                    f"supported API version is {API_VERSION}"
                )
            elif asked < tuple(map(int, MIN_API_VERSION.split("."))):
                error = (
                    f"client version {m.group(1)}.{m.group(2)} is too old. Minimum "
                    f"supported API version is {MIN_API_VERSION}, please upgrade your "
                    "client to a newer version"
                )
            if error:
                body = json.dumps({"message": error}).encode()
                start_response(
                    "400 Bad Request",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
        return self.app(environ, start_response)


def create_app(engine: Engine) -> Flask:
    app = Flask("whalebones")
    app.json.sort_keys = False  # type: ignore[attr-defined]

    @app.errorhandler(EngineError)
    def engine_error(e: EngineError) -> Response:
        if e.status == 304:
            return Response(status=304)
        resp = jsonify(message=e.message)
        resp.status_code = e.status
        return resp

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Response:
        message = "page not found" if e.code == 404 else (e.description or e.name)
        resp = jsonify(message=message)
        resp.status_code = e.code or 500
        return resp

    @app.after_request
    def server_headers(resp: Response) -> Response:
        resp.headers["Api-Version"] = API_VERSION
        resp.headers["Server"] = f"Whalebones/{VERSION} ({engine.stage})"
        resp.headers["Ostype"] = "linux"
        return resp

    # ------------------------------------------------------------ system

    @app.route("/_ping", methods=["GET", "HEAD"])
    def ping() -> Response:
        resp = Response("OK", mimetype="text/plain")
        resp.headers["Docker-Experimental"] = "false"
        resp.headers["Builder-Version"] = "1"
        resp.headers["Swarm"] = "inactive"
        resp.headers["Cache-Control"] = "no-cache, no-store, must-revalidate"
        return resp

    @app.get("/version")
    def version() -> Response:
        uname = platform.uname()
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(uname.machine, uname.machine)
        details = {
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": "whalebones",
            "GoVersion": f"python{platform.python_version()}",
            "Os": "linux",
            "Arch": arch,
            "KernelVersion": uname.release,
            "Experimental": "false",
            "BuildTime": "",
            "Stage": engine.stage,
        }
        return jsonify(
            Platform={"Name": f"Whalebones ({engine.stage}: {engine.executor.name})"},
            Components=[{"Name": "Engine", "Version": VERSION, "Details": details}],
            Version=VERSION,
            ApiVersion=API_VERSION,
            MinAPIVersion=MIN_API_VERSION,
            GitCommit="whalebones",
            GoVersion=f"python{platform.python_version()}",
            Os="linux",
            Arch=arch,
            KernelVersion=uname.release,
            BuildTime="",
        )

    @app.get("/info")
    def info() -> Response:
        all_c = engine.containers.all()
        running = sum(1 for c in all_c if c.state.status == "running")
        paused = sum(1 for c in all_c if c.state.status == "paused")
        uname = platform.uname()
        return jsonify(
            ID="whalebones",
            Containers=len(all_c),
            ContainersRunning=running,
            ContainersPaused=paused,
            ContainersStopped=len(all_c) - running - paused,
            Images=len(engine.images.list()),
            Driver="overlay",
            Debug=False,
            OSType="linux",
            OperatingSystem="Whalebones",
            Architecture=uname.machine,
            NCPU=os.cpu_count(),
            MemTotal=os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
            DockerRootDir=os.path.dirname(engine.containers.root),
            Name=uname.node,
            ServerVersion=VERSION,
            KernelVersion=uname.release,
            LoggingDriver="json-file",
            CgroupDriver="cgroupfs",
            CgroupVersion="2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1",
            DefaultRuntime=engine.executor.name,
            Runtimes={engine.executor.name: {"path": engine.executor.name}},
            SecurityOptions=["name=no-new-privileges"],
            Swarm={"LocalNodeState": "inactive"},
            Plugins={"Log": ["json-file"], "Network": ["host", "null"], "Volume": []},
            Warnings=[],
        )

    # ------------------------------------------------------------ containers

    @app.post("/containers/create")
    def container_create() -> Response:
        body = json_body()
        c = engine.create(request.args.get("name"), body)
        resp = jsonify(Id=c.id, Warnings=[])
        resp.status_code = 201
        return resp

    @app.get("/containers/json")
    def container_list() -> Response:
        filters = _filters()
        show_all = qbool("all") or bool(filters.get("status"))
        result = []
        for c in engine.containers.all():
            if not show_all and not c.state.running:
                continue
            if not _matches(c, filters):
                continue
            result.append(views.summary(engine, c))
        limit = qint("limit")
        if limit and limit > 0:
            result = result[:limit]
        return jsonify(result)

    @app.get("/containers/<ref>/json")
    def container_inspect(ref: str) -> Response:
        return jsonify(views.inspect(engine, engine.containers.get(ref)))

    @app.post("/containers/<ref>/start")
    def container_start(ref: str) -> Response:
        engine.start(ref)
        return Response(status=204)

    @app.post("/containers/<ref>/stop")
    def container_stop(ref: str) -> Response:
        engine.stop(ref, qint("t", qint("timeout")))
        return Response(status=204)

    @app.post("/containers/<ref>/restart")
    def container_restart(ref: str) -> Response:
        engine.restart(ref, qint("t", qint("timeout")))
        return Response(status=204)

    @app.post("/containers/<ref>/kill")
    def container_kill(ref: str) -> Response:
        engine.kill(ref, request.args.get("signal"))
        return Response(status=204)

    @app.post("/containers/<ref>/resize")
    def container_resize(ref: str) -> Response:
        engine.resize(ref, qint("h", 0) or 0, qint("w", 0) or 0)
        return Response(status=200)

    @app.delete("/containers/<ref>")
    def container_delete(ref: str) -> Response:
        engine.remove(ref, force=qbool("force"))
        return Response(status=204)

    @app.post("/containers/<ref>/wait")
    def container_wait(ref: str) -> Response:
        condition = request.args.get("condition") or "not-running"
        c = engine.containers.get(ref)  # 404 before the 200 headers go out
        if condition not in ("not-running", "next-exit", "removed"):
            raise InvalidParameter(f"invalid condition: {condition!r}")

        def body():  # type: ignore[no-untyped-def]
            # The headers go out now, before the container even starts: the docker
            # CLI will not call start until it has them.
            yield b""
            done = engine.wait(c.id, condition)
            error = {"Message": done.state.error} if done.state.error else None
            yield json.dumps({"StatusCode": done.state.exit_code, "Error": error}).encode()

        return Response(body(), mimetype="application/json")

    @app.get("/containers/<ref>/logs")
    def container_logs(ref: str) -> Response:
        c = engine.containers.get(ref)
        wanted = {s for s in ("stdout", "stderr") if qbool(s)}
        if not wanted:
            raise InvalidParameter("Bad parameters: you must choose at least one stream")
        tail_arg = request.args.get("tail", "all")
        tail = None if tail_arg in ("all", "") else qint("tail")
        if tail is not None and tail < 0:
            tail = None
        follow, stamps, tty = qbool("follow"), qbool("timestamps"), bool(c.config.get("Tty"))

        def body():  # type: ignore[no-untyped-def]
            yield b""
            for entry in logs.read(
                engine.log_path(c),
                wanted,
                tail=tail,
                follow=follow,
                still_running=lambda: c.state.running and c.id not in engine._removed,
            ):
                data = entry.data
                if stamps:
                    data = entry.time.encode() + b" " + data
                yield streams.encode(tty, entry.stream, data)

        mimetype = streams.RAW if tty else streams.MULTIPLEXED
        return Response(body(), mimetype=mimetype)

    @app.post("/containers/<ref>/attach")
    def container_attach(ref: str) -> Response:
        c = engine.containers.get(ref)
        if c.state.status == "exited" and not qbool("logs"):
            raise Conflict("You cannot attach to a stopped container, start it first")
        tty = bool(c.config.get("Tty"))
        wanted = {s for s in ("stdout", "stderr") if qbool(s)}
        use_stdin = qbool("stdin") and bool(c.config.get("OpenStdin"))
        stream, with_logs = qbool("stream"), qbool("logs")
        out = engine.output(c)
        q = out.subscribe() if stream else None

        def run(sock, read) -> None:  # type: ignore[no-untyped-def]
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
                        pio = engine.attach_io(c)
                        if pio and c.config.get("StdinOnce"):
                            pio.close_stdin()

                    streams.pump_input(read, write, eof)
                expected = {"stdout"} if tty else {"stdout", "stderr"}
                streams.pump_output(sock, q, tty, expected, wanted)
            finally:
                if q is not None:
                    out.unsubscribe(q)

        return streams.hijack(tty, run)

    # ------------------------------------------------------------ exec

    @app.post("/containers/<ref>/exec")
    def exec_create(ref: str) -> Response:
        ex = engine.exec_create(ref, json_body())
        resp = jsonify(Id=ex.id)
        resp.status_code = 201
        return resp

    @app.post("/exec/<exec_id>/start")
    def exec_start(exec_id: str) -> Response:
        body = json_body()
        ex = engine.get_exec(exec_id)
        tty = bool(body.get("Tty", ex.body.get("Tty")))
        if body.get("Detach"):
            engine.exec_start(exec_id, tty)
            return Response(status=200)
        if ex.running or ex.exit_code is not None:
            raise Conflict(f"Error: Exec command {ex.id} has already run")
        size = body.get("ConsoleSize")
        wanted = {s for s in ("stdout", "stderr") if ex.body.get(f"Attach{s.title()}", True)}

        def run(sock, read) -> None:  # type: ignore[no-untyped-def]
            # As dockerd does, the process starts only once the client has the 101:
            # output that raced ahead of the response head could be swallowed by the
            # client's HTTP parser. An error now goes into the stream itself.
            q = ex.output.subscribe()
            try:
                try:
                    engine.exec_start(exec_id, tty)
                except EngineError as e:
                    sock.sendall(streams.encode(tty, "stdout", f"{e.message}\r\n".encode()))
                    return
                if tty and size and size[0] and size[1]:
                    try:
                        engine.exec_resize(exec_id, int(size[0]), int(size[1]))
                    except EngineError:
                        pass
                if ex.body.get("AttachStdin") and ex.io is not None:
                    streams.pump_input(read, ex.io.write_stdin, ex.io.close_stdin)
                expected = {"stdout"} if tty else {"stdout", "stderr"}
                streams.pump_output(sock, q, tty, expected, wanted)
                # Close the stream only once the exit code is known: the client asks
                # for it (GET /exec/{id}/json) as soon as the stream ends.
                ex.done.wait(10)
            finally:
                ex.output.unsubscribe(q)

        return streams.hijack(tty, run)

    @app.post("/exec/<exec_id>/resize")
    def exec_resize(exec_id: str) -> Response:
        engine.exec_resize(exec_id, qint("h", 0) or 0, qint("w", 0) or 0)
        return Response(status=200)

    @app.get("/exec/<exec_id>/json")
    def exec_inspect(exec_id: str) -> Response:
        return jsonify(views.exec_inspect(engine.get_exec(exec_id)))

    # ------------------------------------------------------------ images

    @app.post("/images/create")
    def image_create() -> Response:
        # Pulling from registries is issue 6; until then an image that is not in the
        # store cannot be had, and the docker CLI shows this message after its own
        # "Unable to find image locally".
        ref = request.args.get("fromImage", "")
        tag = request.args.get("tag")
        if ref and tag and "@" not in ref:
            ref = f"{ref}:{tag}"
        try:
            engine.images.resolve(ref)
        except image_store.ImageNotFound:
            raise NotFound(
                f"pull access denied for {ref.split(':')[0]}: this daemon cannot reach "
                "registries yet; only images in its store can run"
            ) from None
        return Response(
            json.dumps({"status": f"Image is up to date for {ref}"}) + "\r\n",
            mimetype="application/json",
        )

    @app.get("/images/json")
    def image_list() -> Response:
        return jsonify([image_store.to_summary(i) for i in engine.images.list()])

    @app.get("/images/<path:ref>/json")
    def image_inspect(ref: str) -> Response:
        return jsonify(image_store.to_inspect(engine.images.resolve(ref)))

    @app.post("/images/<path:ref>/tag")
    def image_tag(ref: str) -> Response:
        repo, tag = request.args.get("repo", ""), request.args.get("tag") or "latest"
        if not repo:
            raise InvalidParameter("repository name must have at least one component")
        engine.images.tag(engine.images.resolve(ref), f"{repo}:{tag}")
        return Response(status=201)

    @app.delete("/images/<path:ref>")
    def image_delete(ref: str) -> Response:
        def in_use(image_id: str) -> str | None:
            c = engine.image_in_use(image_id)
            return c.id if c else None

        return jsonify(engine.images.delete(ref, force=qbool("force"), in_use=in_use))

    def _filters() -> dict[str, list[str]]:
        raw = request.args.get("filters")
        if not raw:
            return {}
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise InvalidParameter("invalid filter") from None
        # Old clients send {"name": {"x": true}}, new ones {"name": ["x"]}.
        return {k: (list(v) if isinstance(v, dict | list) else [v]) for k, v in parsed.items()}

    def _matches(c, filters: dict[str, list[str]]) -> bool:  # type: ignore[no-untyped-def]
        for key, values in filters.items():
            if key == "id" and not any(c.id.startswith(v) for v in values):
                return False
            if key == "name" and not any(re.search(v.lstrip("/"), c.name) for v in values):
                return False
            if key == "status" and views.public_status(c) not in values:
                return False
            if key == "label":
                labels = c.config.get("Labels") or {}
                for v in values:
                    k, _, val = v.partition("=")
                    if k not in labels or (val and labels[k] != val):
                        return False
        return True

    app.wsgi_app = VersionPrefix(app.wsgi_app)  # type: ignore[method-assign]
    return app
