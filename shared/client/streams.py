"""Docker's multiplexed stream framing, both ways.

A container has two output streams, stdout and stderr, but an HTTP connection is
one byte stream. When the container has no TTY, Docker keeps the two apart by
cutting the output into frames, each with an 8-byte header:

    byte 0     which stream: 0 stdin, 1 stdout, 2 stderr
    bytes 1-3  zero
    bytes 4-7  payload length, big-endian unsigned 32-bit

followed by that many payload bytes. With a TTY there is nothing to keep apart:
the kernel's pseudo-terminal has already merged stdout and stderr into one
stream, so the daemon sends the raw bytes unframed. Input (our stdin going to the
container) is never framed either.

Attach, logs and exec all use this framing, so the daemon (to write frames) and
the CLI (to read them) share this module. It imports nothing from either side.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Protocol

    class Sendable(Protocol):
        def sendall(self, data: bytes, /) -> None: ...

STDIN, STDOUT, STDERR = 0, 1, 2

HEADER = struct.Struct(">BxxxL")  # stream number, three pad bytes, payload length

# Content types the daemon announces for the two kinds of stream.
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"


def frame(stream_no: int, data: bytes) -> bytes:
    """One frame: header plus payload."""
    return HEADER.pack(stream_no, len(data)) + data


def write_frame(sock: Sendable, stream_no: int, data: bytes) -> None:
    """Send `data` as one frame of stream `stream_no` (nothing for empty data:
    a zero-length frame carries no output and some clients read it as the end)."""
    if data:
        sock.sendall(frame(stream_no, data))


class Demuxer:
    """Split a multiplexed byte stream back into (stream number, payload) pieces.

    Bytes arrive in whatever pieces the socket delivers them: a header may be cut in
    two, a payload may span many reads. `feed()` keeps what it cannot use yet.
    Payloads are handed out as they arrive rather than a whole frame at a time, so
    a large frame still reaches the terminal promptly.
    """

    def __init__(self) -> None:
        self._pending = b""   # bytes of an incomplete header
        self._stream = 0      # stream of the frame being read
        self._left = 0        # payload bytes of that frame not yet seen

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        view = memoryview(self._pending + data)
        self._pending = b""
        while view:
            if self._left == 0:
                if len(view) < HEADER.size:
                    self._pending = bytes(view)
                    return
                self._stream, self._left = HEADER.unpack(view[: HEADER.size])
                view = view[HEADER.size :]
                continue
            piece = bytes(view[: self._left])
            self._left -= len(piece)
            view = view[len(piece) :]
            yield self._stream, piece

    @property
    def in_frame(self) -> bool:
        """True when the stream stopped in the middle of a frame (truncated)."""
        return bool(self._pending) or self._left > 0
