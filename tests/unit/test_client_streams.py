"""Docker's stdout/stderr framing: frames out, and the demuxer over any cut of bytes."""

from __future__ import annotations

import socket

from shared.client.streams import HEADER, STDERR, STDOUT, Demuxer, frame, write_frame


def test_frame_layout() -> None:
    assert frame(STDOUT, b"hi\n") == b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n"
    assert frame(STDERR, b"x" * 300)[:8] == b"\x02\x00\x00\x00\x00\x00\x01\x2c"
    assert HEADER.size == 8


def test_write_frame_over_a_socket() -> None:
    left, right = socket.socketpair()
    with left, right:
        write_frame(left, STDERR, b"oops")
        write_frame(left, STDOUT, b"")  # nothing: an empty frame carries nothing
        left.close()
        assert right.recv(100) == frame(STDERR, b"oops")


def joined(pieces: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Merge consecutive pieces of one stream (payloads may arrive split)."""
    out: list[tuple[int, bytes]] = []
    for stream, data in pieces:
        if out and out[-1][0] == stream:
            out[-1] = (stream, out[-1][1] + data)
        else:
            out.append((stream, data))
    return out


def test_demux_every_split() -> None:
    """Cut the stream at every possible place, in every size: the result is the same."""
    wire = frame(STDOUT, b"out 1\n") + frame(STDERR, b"err\n") + frame(STDOUT, b"") + \
        frame(STDOUT, b"out 2\n")
    want = [(STDOUT, b"out 1\n"), (STDERR, b"err\n"), (STDOUT, b"out 2\n")]
    for size in range(1, len(wire) + 1):
        demuxer = Demuxer()
        got = [p for i in range(0, len(wire), size) for p in demuxer.feed(wire[i : i + size])]
        assert joined(got) == want, size
        assert not demuxer.in_frame


def test_demux_hands_out_payload_before_the_frame_is_complete() -> None:
    demuxer = Demuxer()
    wire = frame(STDOUT, b"0123456789")
    assert list(demuxer.feed(wire[:12])) == [(STDOUT, b"0123")]
    assert demuxer.in_frame
    assert list(demuxer.feed(wire[12:])) == [(STDOUT, b"456789")]
    assert not demuxer.in_frame

