"""The Docker Engine API, as a Flask app over the daemon's `Engine`.

Only the HTTP lives in shared/api: parsing query strings and bodies, status codes,
streaming. Every decision about containers is the engine's. The routes, one module
per kind of object under routes/, follow Docker's API reference (v1.45) and what the
real docker CLI and docker-py send (docs/reference/contracts.md#engine-api). This
module assembles them: error mapping, the headers every answer carries, and the
versioned paths.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from shared.api.routes import (
    build,
    commit,
    container_files,
    containers,
    events,
    execs,
    experimental,
    images,
    networks,
    not_yet,
    plugins,
    swarm,
    system,
    volumes,
)
from shared.api.version import API_VERSION, MIN_API_VERSION, VERSION
from shared.daemon.engine import Engine
from shared.errors import EngineError

_VERSIONED = re.compile(r"^/v(\d+)\.(\d+)(/.*)\Z")


class VersionPrefix:
    """WSGI middleware: `/v1.45/containers/json` -> `/containers/json`.

    Every route exists with and without the version, as in Docker; the version asked
    for is checked against what this daemon speaks.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        m = _VERSIONED.match(environ.get("PATH_INFO", ""))
        if m:
            asked = (int(m.group(1)), int(m.group(2)))
            environ["PATH_INFO"] = m.group(3)
            environ["whalebones.api_version"] = asked  # some routes answer by version
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
    app.extensions["whalebones.engine"] = engine
    for module in (system, events, build, commit, containers, container_files, execs, images,
                   networks, volumes, swarm, plugins, experimental, not_yet):
        app.register_blueprint(module.bp)

    @app.errorhandler(EngineError)
    def engine_error(e: EngineError) -> Response:
        if e.status == 304:
            return Response(status=304)
        resp = jsonify(message=e.message)
        resp.status_code = e.status
        return resp

    @app.errorhandler(Exception)
    def unexpected(e: Exception) -> Response:
        # A bug or an operating-system error the engine did not expect: the client
        # gets what happened (Docker, too, passes such errors through as 500s), the
        # daemon's log gets the traceback.
        if isinstance(e, HTTPException):
            return http_error(e)
        app.logger.exception("unexpected error")
        resp = jsonify(message=f"{type(e).__name__}: {e}")
        resp.status_code = 500
        return resp

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Response:
        # A path dockerd does not have, or one it has but not for this method, is its
        # router's 404 "page not found" (moby api/server/server.go: NotFoundHandler and
        # MethodNotAllowedHandler are the same handler). Every path of Docker's API
        # reference has a route here (routes/not_yet.py for the features still missing),
        # so this answer means what it means in Docker: no such endpoint.
        if e.code in (404, 405):
            resp = jsonify(message="page not found")
            resp.status_code = 404
            return resp
        resp = jsonify(message=e.description or e.name)
        resp.status_code = e.code or 500
        return resp

    @app.after_request
    def server_headers(resp: Response) -> Response:
        resp.headers["Api-Version"] = API_VERSION
        resp.headers["Server"] = f"Whalebones/{VERSION} ({engine.stage})"
        resp.headers["Ostype"] = "linux"
        return resp

    # Flask's documented way to add WSGI middleware replaces this method, which mypy
    # cannot know is meant to be replaced.
    app.wsgi_app = VersionPrefix(app.wsgi_app)  # type: ignore[method-assign]
    return app
