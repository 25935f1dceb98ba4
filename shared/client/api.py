"""A tiny Docker Engine API client: HTTP/1.1 over a unix socket, written by hand.

The Engine API is plain HTTP with JSON bodies. The daemon listens on a unix socket
rather than a TCP port because a socket file carries filesystem permissions: whoever
can open /run/.../docker.sock can drive the daemon, which is as good as root.

Why by hand rather than `http.client`? Two reasons:

* start-up time: `http.client` (with `email` for header parsing) adds ~25 ms to
  every CLI call, more than the interpreter itself takes to start;
* hijacking: `docker attach`, `run` and `exec` turn the HTTP connection into a raw
  two-way byte pipe (`101 UPGRADED`), which `http.client` does not expose cleanly.

Three ways to call the daemon:

    request()  send, read the whole reply, raise APIError on 4xx/5xx
    stream()   send, read the status line and headers; the body is read later
               (logs -f; wait, whose headers come at once and body at exit)
    hijack()   send with `Upgrade: tcp`; hand back the socket itself
"""

from __future__ import annotations

import json
import socket

from shared import trace

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

DEFAULT_HOST = "unix:///run/whalebones/docker.sock"
API_VERSION = "1.45"  # the newest we speak; the daemon may know less (see ping)
FALLBACK_VERSION = "1.24"  # what the docker CLI assumes when /_ping has no Api-Version

_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class DaemonUnreachable(Exception):
    """No daemon answers at the socket path."""


class APIError(Exception):
    """The daemon answered with an error status: `{"message": "..."}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ProtocolError(Exception):
    """The daemon's reply was not the HTTP we expected."""


def quote(text: str, safe: str = "") -> str:
    """Percent-encode for a URL (what urllib.parse.quote does, without its imports)."""
    keep = _SAFE | frozenset(safe.encode())
    return "".join(chr(b) if b in keep else f"%{b:02X}" for b in text.encode())


def encode_query(query: dict[str, Any]) -> str:
    """`{"all": True, "t": 5, "x": None}` -> `?all=1&t=5` (None means leave it out)."""
    parts = []
    for key, value in query.items():
        if value is None or value is False:
            continue
        if value is True:
            value = 1
        parts.append(f"{quote(key)}={quote(str(value))}")
    return "?" + "&".join(parts) if parts else ""


def socket_path(host: str) -> str:
    """`unix:///run/x.sock` -> `/run/x.sock`. Only unix sockets are supported."""
    if host.startswith("unix://"):
        return host[len("unix://") :]
    if host.startswith("/"):
        return host
    raise DaemonUnreachable(f"unsupported host {host!r}: only unix:///path is supported")


class _Reader:
    """Buffered reading from a socket, with the buffer kept in view.

    When a connection is hijacked, the bytes already read past the headers belong
    to the stream; a private buffer (unlike `socket.makefile()`) lets us hand them on.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def readline(self) -> bytes:
        while b"\n" not in self.buffer:
            if not self._fill():
                raise ProtocolError("the daemon closed the connection mid-reply")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r")

    def read_upto(self, limit: int) -> bytes:
        """Up to `limit` bytes: what is buffered, else one recv(); b"" at end of stream."""
        if not self.buffer and not self._fill():
            return b""
        piece, self.buffer = self.buffer[:limit], self.buffer[limit:]
        return piece


class Response:
    """A reply whose status and headers are read and whose body may not be yet."""

    def __init__(self, reader: _Reader, method: str) -> None:
        self._reader = reader
        status_line = reader.readline().decode("latin-1")
        try:
            _version, status, *reason = status_line.split(" ", 2)
            self.status = int(status)
        except ValueError:
            raise ProtocolError(f"bad status line from daemon: {status_line!r}") from None
        self.reason = reason[0] if reason else ""
        self.headers: dict[str, str] = {}
        while line := reader.readline():
            name, _, value = line.decode("latin-1").partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self._no_body = method == "HEAD" or self.status in (101, 204, 304)

    def chunks(self) -> Iterator[bytes]:
        """The body, piece by piece as it arrives (HTTP chunking undone)."""
        reader = self._reader
        if self._no_body:
            return
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while size := int(reader.readline().split(b";")[0], 16):
                while size:
                    piece = reader.read_upto(size)
                    if not piece:
                        raise ProtocolError("the daemon closed the connection mid-chunk")
                    size -= len(piece)
                    yield piece
                reader.readline()  # the CRLF after each chunk
            while reader.readline():  # trailers, then the final blank line
                pass
        elif "content-length" in self.headers:
            left = int(self.headers["content-length"])
            while left and (piece := reader.read_upto(left)):
                left -= len(piece)
                yield piece
        else:  # HTTP/1.0 style: the body ends when the connection does
            while piece := reader.read_upto(65536):
                yield piece

    def read(self) -> bytes:
        try:
            return b"".join(self.chunks())
        finally:
            self.close()

    def json(self) -> Any:
        return json.loads(self.read() or b"null")

    def close(self) -> None:
        self._reader.sock.close()


class Hijacked:
    """A connection turned into a raw two-way stream.

    `leftover` holds stream bytes that arrived together with the HTTP headers;
    they come before anything read from `sock`.
    """

    def __init__(self, sock: socket.socket, leftover: bytes) -> None:
        self.sock = sock
        self.leftover = leftover


class Client:
    """The Engine API at one host. Each call opens its own connection: on a unix
    socket that costs microseconds, and a hijacked or streaming call keeps its
    connection busy anyway."""

    def __init__(self, host: str = DEFAULT_HOST) -> None:
        self.host = host
        self.path = socket_path(host)
        self.version: str | None = None  # set by ping()

    # -- the three ways to call -------------------------------------------------

    def request(
        self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        """Call and return the decoded JSON body (None when there is none)."""
        response = self.stream(method, path, query=query, body=body)
        data = response.read()
        if not data:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return json.loads(data)
        return data

    def stream(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Call and return once the status line and headers have arrived."""
        with trace.span("client", "call", f"{method} {path}", "daemon"):
            reader = self._send(method, self._versioned(path), query, body, headers)
            response = Response(reader, method)
        if response.status >= 400:
            raise _error(response)
        return response

    def hijack(
        self, path: str, *, query: dict[str, Any] | None = None, body: Any = None
    ) -> Hijacked:
        """POST with `Upgrade: tcp` and return the raw connection once it is granted."""
        upgrade = {"Connection": "Upgrade", "Upgrade": "tcp"}
        response = self.stream("POST", path, query=query, body=body, headers=upgrade)
        # 101 is the modern answer; daemons before API 1.22 answered 200 and just
        # carried on with the stream on the same connection.
        if response.status not in (101, 200):
            response.close()
            # the docker CLI's words
            raise ProtocolError(f"unable to upgrade to tcp, received {response.status}")
        reader = response._reader
        return Hijacked(reader.sock, reader.buffer)

    # -- version negotiation ----------------------------------------------------

    def ping(self) -> None:
        """`HEAD /_ping`, as every docker CLI command begins: learn the daemon's API
        version and speak min(ours, theirs) from then on."""
        response = Response(self._send("HEAD", "/_ping", None, None, None), "HEAD")
        response.close()
        if response.status >= 400:  # very old daemons know only GET /_ping
            response = Response(self._send("GET", "/_ping", None, None, None), "GET")
            response.read()
        theirs = response.headers.get("api-version", FALLBACK_VERSION)
        self.version = min(API_VERSION, theirs, key=_version_key)

    def _versioned(self, path: str) -> str:
        if self.version is None:
            self.ping()
        return f"/v{self.version}{path}"

    # -- the wire ---------------------------------------------------------------

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            raise DaemonUnreachable(
                f"Cannot connect to the Whalebones daemon at {self.host}. "
                "Is it running? (make stage-4)"
            ) from None
        except PermissionError as error:
            sock.close()
            raise DaemonUnreachable(
                f"permission denied while trying to connect to the Whalebones daemon "
                f"socket at {self.host}: connect {self.path}: {error.strerror}"
            ) from None
        return sock

    def _send(
        self,
        method: str,
        target: str,
        query: dict[str, Any] | None,
        body: Any,
        headers: dict[str, str] | None,
    ) -> _Reader:
        sock = self._connect()
        lines = [f"{method} {target}{encode_query(query or {})} HTTP/1.1", "Host: docker"]
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            lines.append("Content-Type: application/json")
        if body is not None or method == "POST":
            lines.append(f"Content-Length: {len(payload)}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if not headers or "Connection" not in headers:
            lines.append("Connection: close")  # one request per connection
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        return _Reader(sock)


def _error(response: Response) -> APIError:
    data = response.read()
    try:
        message = json.loads(data)["message"]
    except (ValueError, KeyError, TypeError):
        message = data.decode(errors="replace").strip() or response.reason
    return APIError(response.status, message)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
