"""Serve the API on a unix socket only root can open, as dockerd does.

Whoever can talk to a container engine's socket can start a privileged container
with the host's / mounted: access to the socket is root access. So the socket is
created 0660 and owned by root.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from shared import trace


class QuietHandler(WSGIRequestHandler):
    """A connection dropped by a client that got what it wanted is not news."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if logging.getLogger("whalebones").isEnabledFor(logging.DEBUG):
            super().log_request(code, size)


def socket_path(host: str) -> str:
    if not host.startswith("unix://"):
        raise SystemExit(f"--host {host}: only unix:// sockets are supported")
    return host[len("unix://") :]


def claim_socket(path: str) -> None:
    """Refuse to start over a live daemon; remove the socket a dead one left."""
    os.makedirs(os.path.dirname(path) or ".", mode=0o755, exist_ok=True)
    if os.path.exists(path):
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)
        else:
            raise SystemExit(f"{path}: another daemon is already listening there")
        finally:
            probe.close()


def traced(wsgi_app: WSGIApplication) -> WSGIApplication:
    """In trace mode, each request the daemon serves is an event (see shared/trace.py);
    a streamed reply counts until its headers are out."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        what = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
        with trace.span("daemon", "serve", what):
            return wsgi_app(environ, start_response)

    return app


def serve(app: Flask, host: str, on_shutdown: list) -> None:
    path = socket_path(host)
    if trace.PATH:
        # Flask's way to add WSGI middleware replaces this method (mypy cannot know).
        app.wsgi_app = traced(app.wsgi_app)  # type: ignore[method-assign,assignment]
    claim_socket(path)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    old_umask = os.umask(0o117)  # the socket is born 0660: no window where others may connect
    try:
        server = make_server(host, 0, app, threaded=True, request_handler=QuietHandler)
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o660)
    os.chown(path, 0, 0)

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        for hook in on_shutdown:
            hook()
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
