"""Docker's JSON progress stream, shown as the docker CLI shows it (pull, push, load).

The daemon sends one JSON object per line: `{"status": "Downloading", "id": "a3ed95caeb02",
"progressDetail": {"current": 1024, "total": 2048}, "progress": "[==>   ] 1kB/2kB"}`.

On a terminal each `id` owns one line, redrawn in place as its layer progresses: the
cursor goes up to that line (ESC [ n A), the line is cleared (ESC [ 2K) and rewritten,
and the cursor comes back down (ESC [ n B). Anywhere else (a pipe, a log file), bars
would be noise: every status is printed once as `id: status` and progress is skipped.

Also the upload of a request body from a file (load, import), which api.py's JSON
requests do not cover.
"""

from __future__ import annotations

import json

from shared.client.api import Client, Response

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any, BinaryIO, TextIO


class StreamError(Exception):
    """An `{"error": ...}` line: the operation failed after it had started. `code`: the
    exit code it carries (a build's failed RUN), which the docker CLI exits with."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Display:
    def __init__(self, out: TextIO, terminal: bool, quiet: bool = False) -> None:
        self.out = out
        self.terminal = terminal
        self.quiet = quiet  # show nothing but errors
        self.lines: dict[str, int] = {}  # id -> its line number, from the first
        self.count = 0  # lines written so far (terminal mode)

    def show(self, message: dict[str, Any]) -> None:
        if "error" in message or "errorDetail" in message:
            detail = message.get("errorDetail") or {}
            raise StreamError(detail.get("message") or message.get("error") or "unknown error",
                              detail.get("code") or 1)
        if self.quiet:
            return
        if "stream" in message:
            self.out.write(message["stream"])
            return
        if "status" not in message:
            return  # "aux" (push's digest, for content trust): nothing to show
        id_, status = message.get("id"), message["status"]
        bar = message.get("progress") or ""
        has_progress = bool((message.get("progressDetail") or {}).get("total")) or bool(bar)
        text = f"{id_}: {status}" if id_ else status
        if not self.terminal:
            if not has_progress:
                self.out.write(text + "\n")
            return
        if bar:
            text += " " + bar
        if id_ is None:
            self.out.write(text + "\n")
            self.count += 1
        elif id_ not in self.lines:
            self.lines[id_] = self.count
            self.out.write(text + "\n")
            self.count += 1
        else:
            up = self.count - self.lines[id_]
            self.out.write(f"\x1b[{up}A\x1b[2K\r{text}\x1b[{up}B\r")
        self.out.flush()

    def follow(self, response: Response) -> None:
        """Show every message of a streamed reply; raise StreamError on an error line."""
        buffer = b""
        for piece in response.chunks():
            buffer += piece
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    self.show(json.loads(line))
        if buffer.strip():
            self.show(json.loads(buffer))


def send_file(
    client: Client,
    method: str,
    path: str,
    body: BinaryIO,
    *,
    query: dict[str, Any] | None = None,
    content_type: str = "application/x-tar",
) -> Response:
    """Send `body` as the request body, chunked (its size may not be known: stdin),
    and return the reply once its headers are in."""
    from shared.client.api import Response, _error, _Reader, encode_query

    # A list is a repeated parameter: changes=CMD%20..&changes=ENV%20..
    single = {k: v for k, v in (query or {}).items() if not isinstance(v, list)}
    repeated = [encode_query({k: item})[1:] for k, v in (query or {}).items()
                if isinstance(v, list) for item in v]
    target = client._versioned(path) + encode_query(single)
    if repeated:
        target += ("&" if "?" in target else "?") + "&".join(repeated)
    sock = client._connect()
    head = (f"{method} {target} HTTP/1.1\r\nHost: docker\r\nContent-Type: {content_type}\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    sock.sendall(head.encode("latin-1"))
    while chunk := body.read(1 << 20):
        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    sock.sendall(b"0\r\n\r\n")
    response = Response(_Reader(sock), method)
    if response.status >= 400:
        raise _error(response)
    return response
