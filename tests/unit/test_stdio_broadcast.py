"""Unit tests (threads only, no container) of the output fan-out: each attached
client's queue is bounded, a slow one holds the output up (as Docker's BytesPipe does)
instead of growing the daemon's memory, and ends of streams always get through."""

from __future__ import annotations

import threading

from shared.daemon.stdio import Broadcast, Subscription

CHUNK = b"x" * 65536


def publishing(out: Broadcast, chunks: int) -> threading.Thread:
    t = threading.Thread(target=lambda: [out.publish("stdout", CHUNK) for _ in range(chunks)],
                         daemon=True)
    t.start()
    return t


def test_a_client_that_does_not_read_holds_the_output_at_the_limit() -> None:
    out = Broadcast()
    slow = out.subscribe()
    writer = publishing(out, 100)  # 6.4 MiB
    writer.join(1)
    assert writer.is_alive()  # waiting for the client, not buffering
    assert slow._bytes <= Subscription.LIMIT + len(CHUNK)
    got = 0
    while got < 100 * len(CHUNK):  # the client reads again: everything arrives, in order
        stream, data = slow.get()
        assert (stream, data) == ("stdout", CHUNK)
        got += len(data)
    writer.join(5)
    assert not writer.is_alive()


def test_a_client_that_goes_away_frees_the_output() -> None:
    out = Broadcast()
    slow, fast = out.subscribe(), out.subscribe()
    writer = publishing(out, 100)
    writer.join(1)
    assert writer.is_alive()
    out.unsubscribe(slow)
    received = 0
    while received < 100:
        assert fast.get() == ("stdout", CHUNK)
        received += 1
    writer.join(5)
    assert not writer.is_alive()
    assert slow.get() == ("exit", None)  # a closed subscription ends its reader


def test_ends_of_streams_pass_a_full_queue() -> None:
    out = Broadcast()
    slow = out.subscribe()
    writer = publishing(out, 17)  # 1 MiB + 1 chunk: full
    writer.join(1)
    done = threading.Thread(target=lambda: (out.publish("stdout", None),
                                            out.publish("exit", None)), daemon=True)
    done.start()
    done.join(1)
    assert not done.is_alive()  # recording an exit never waits for a client
    out.unsubscribe(slow)
    writer.join(5)
