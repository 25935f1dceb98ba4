"""Copy between our standard streams and a hijacked connection to a container.

After `101 UPGRADED` the connection is a plain two-way byte pipe:

    our stdin  ------ raw bytes ------------------------->  container stdin
    our stdout <----- frames (no TTY) or raw bytes (TTY) --  container stdout+stderr
    our stderr <----- frames for stream 2 ----------------'

One thread does both directions with select(): wait until the socket or stdin has
something, move it, repeat. The stream ends when the daemon closes its side, which
it does when the container's output ends (usually: the container exited).

With a TTY, typing the detach keys (Ctrl-P Ctrl-Q, or --detach-keys) detaches: we
stop and leave the container running, as the docker CLI does. The daemon watches for
them too (shared/detachkeys.py); we hang up first, and never send the sequence.
(Only with a TTY: without one, every byte of input is data.)

When our stdin ends we half-close the socket (shutdown SHUT_WR): the daemon reads
EOF and closes the container's stdin, so `cat` or `sh` in the container see the end
of input too, while their remaining output still flows back to us.
"""

from __future__ import annotations

import os
import select
import socket

from shared.client.api import Hijacked
from shared.client.streams import STDERR, Demuxer
from shared.detachkeys import DEFAULT, EscapeProxy


def write_all(fd: int, data: bytes) -> None:
    """os.write() may write less than asked (pipes, terminals); finish the job."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Output:
    """Where container output goes: demultiplexed to stdout/stderr, or all to stdout."""

    def __init__(self, multiplexed: bool) -> None:
        self.demuxer = Demuxer() if multiplexed else None
        self.closed = False  # our stdout went away (EPIPE): keep draining, stop writing

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            if self.demuxer is None:
                write_all(1, data)
                return
            for stream_no, piece in self.demuxer.feed(data):
                write_all(2 if stream_no == STDERR else 1, piece)
        except BrokenPipeError:
            self.closed = True


def copy_streams(conn: Hijacked, *, tty: bool, send_stdin: bool,
                 detach_keys: bytes = DEFAULT) -> bool:
    """Pump until the daemon ends the output stream; True if the user detached.

    The output is framed exactly when the process has no TTY. (The reply's
    Content-Type says so too, but only from API 1.42 on; like the docker CLI we go
    by what we asked for.)"""
    sock = conn.sock
    output = _Output(multiplexed=not tty)
    if conn.leftover:
        output.write(conn.leftover)
    reading_stdin = send_stdin
    pending = b""  # stdin bytes read but not yet accepted by the socket
    escape = EscapeProxy(detach_keys) if tty else None
    while True:
        readers: list[socket.socket | int] = [sock]
        if reading_stdin and not pending:
            readers.append(0)
        writers = [sock] if pending else []
        readable, writable, _ = select.select(readers, writers, [])
        if sock in writable:
            # MSG_DONTWAIT: never block on input while output waits to be read;
            # a container that does not read its stdin must not stall its stdout.
            try:
                pending = pending[sock.send(pending, socket.MSG_DONTWAIT) :]
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                pending, reading_stdin = b"", False  # the daemon stopped listening
            if not pending and not reading_stdin:
                _half_close(sock)
        if 0 in readable:
            pending = os.read(0, 65536)
            if not pending:
                reading_stdin = False
                _half_close(sock)
            elif escape is not None:
                pending, detached = escape.feed(pending)
                if detached:
                    sock.close()
                    return True
        if sock in readable:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                break
            output.write(data)
    sock.close()
    return False


def _half_close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # already closed by the daemon: nothing left to tell it
