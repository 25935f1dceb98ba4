"""The shim's API: one JSON object per line over a unix socket, one call per connection.

    containerd -> shim   {"method": "kill", "exec_id": "", "signal": 15, "all": false}
    shim -> containerd   {"result": null}    or    {"error": "...", "code": "not_found"}

Why not gRPC, as between the daemon and containerd? A shim runs once per container
and lives as long as it does: grpcio alone would add about 20 MB of resident memory to
every container. The real containerd met the same pressure with ttrpc, a trimmed-down
gRPC for unix sockets; here it is the simplest thing the standard library can do. A
`wait` is a call whose reply comes when the process exits; a connection that breaks
without a reply means the shim is gone.
"""

from __future__ import annotations

import json
import socket

ERROR_CODES = ("not_found", "already_exists", "failed", "bad_request")


class ShimError(Exception):
    """The shim answered with an error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ShimGone(Exception):
    """Nobody answers at the shim's address, or it hung up before replying."""


def call(address: str, method: str, timeout: float | None = 30.0, **params: object) -> object:
    """Make one call; `timeout=None` waits as long as it takes (a `wait`)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            sock.sendall(json.dumps({"method": method, **params}).encode() + b"\n")
            line = sock.makefile("rb").readline()
        except (ConnectionError, FileNotFoundError) as e:
            raise ShimGone(f"shim at {address}: {e}") from None
        except TimeoutError:
            raise ShimGone(f"shim at {address}: no answer to {method} in {timeout} s") from None
    finally:
        sock.close()
    if not line:
        raise ShimGone(f"shim at {address} hung up during {method}")
    reply = json.loads(line)
    if "error" in reply:
        raise ShimError(reply.get("code", "failed"), reply["error"])
    return reply.get("result")


def read_request(conn: socket.socket) -> dict:
    line = conn.makefile("rb").readline()
    request = json.loads(line) if line else {}
    if not isinstance(request, dict) or "method" not in request:
        raise ShimError("bad_request", "a request is a JSON object with a method")
    return request


def reply(conn: socket.socket, result: object = None, error: ShimError | None = None) -> None:
    message: dict[str, object]
    if error is not None:
        message = {"error": str(error), "code": error.code}
    else:
        message = {"result": result}
    try:
        conn.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        pass  # the caller gave up (containerd restarted): nothing to tell
