"""Hijacked connections: how the Engine API turns an HTTP request into a raw stream.

`attach` and `exec start` answer `101 UPGRADED` and from then on the socket is not
HTTP at all: the daemon writes the container's output and reads what the user types,
both at once, until the process ends. Without a TTY the two output streams share one
socket, so each chunk is framed (the "multiplexed stream"):

    [stream: 1 byte (0 stdin, 1 stdout, 2 stderr)][0 0 0][length: uint32 big-endian][payload]

With a TTY there is only one stream and the bytes go raw.

Werkzeug serves HTTP; to hand the socket over, the response body below writes the
101 head itself and, once the stream is done, raises `Hijacked` (a ConnectionAbortedError)
so werkzeug treats the connection as dropped and writes nothing more to it.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator

from flask import Response, request

from shared.daemon.stdio import Subscription
from shared.detachkeys import EscapeProxy

STREAM_NUMBERS = {"stdin": 0, "stdout": 1, "stderr": 2}
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"


class Hijacked(ConnectionAbortedError):
    """The connection stopped being HTTP; the server must not touch it again."""


def frame(stream: str, data: bytes) -> bytes:
    return struct.pack(">BxxxL", STREAM_NUMBERS[stream], len(data)) + data


def encode(tty: bool, stream: str, data: bytes) -> bytes:
    return data if tty else frame(stream, data)


def hijack(tty: bool, run: Callable[[socket.socket, Callable[[int], bytes]], None]) -> Response:
    """Answer with an upgrade and give the raw socket to `run(sock, read)`.

    `read(n)` returns what the client sends (b"" at its EOF), including any bytes the
    HTTP parser had already buffered after the request head.
    """
    environ = request.environ
    sock: socket.socket = environ["werkzeug.socket"]
    rfile = environ["wsgi.input"]
    reader = getattr(rfile, "read1", None) or rfile.read
    upgrade = "upgrade" in request.headers.get("Connection", "").lower()
    content_type = RAW if tty else MULTIPLEXED
    if upgrade:
        head = (
            "HTTP/1.1 101 UPGRADED\r\n"
            f"Content-Type: {content_type}\r\n"
            "Connection: Upgrade\r\n"
            "Upgrade: tcp\r\n\r\n"
        )
    else:  # old clients: a 200 whose body is the stream
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n\r\n"

    def body() -> Iterator[bytes]:
        sock.sendall(head.encode())
        try:
            run(sock, reader)
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise Hijacked()
        yield b""  # pragma: no cover - makes this a generator

    return Response(body())


def pump_output(
    sock: socket.socket,
    q: Subscription,
    tty: bool,
    streams: set[str],
    wanted: set[str],
) -> None:
    """Send output from a Broadcast subscription until the process's streams end."""
    open_streams = set(streams)
    while open_streams:
        stream, data = q.get()
        if stream == "exit":
            break
        if data is None:
            open_streams.discard(stream)
            continue
        if stream in wanted:
            try:
                sock.sendall(encode(tty, stream, data))
            except OSError:
                return  # the client went away; the container goes on


def pump_input(
    read: Callable[[int], bytes],
    write: Callable[[bytes], bool],
    on_eof: Callable[[], None],
    escape: EscapeProxy | None = None,
    on_detach: Callable[[], None] = lambda: None,
) -> threading.Thread:
    """Copy what the client types into the process, in a thread of its own.

    `escape` (a TTY attach): the detach keys end the copy with `on_detach` instead of
    `on_eof`: the client leaves, the process keeps its stdin (moby's copyEscapable)."""

    def run() -> None:
        try:
            while True:
                data = read(65536)
                if not data:
                    break
                detached = False
                if escape is not None:
                    data, detached = escape.feed(data)
                if data and not write(data):
                    return
                if detached:
                    on_detach()
                    return
        except (OSError, ValueError):
            pass
        on_eof()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t
