"""The daemon's event bus (shared/daemon/events.py), alone: no daemon, no container.

The containers here are fakes (a SimpleNamespace with id, name and config), labelled so.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from shared.daemon import events
from shared.daemon.events import Events, Filter, Message


def fake_container(name: str = "web", labels: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(id="c0ffee" + "0" * 58, name=name,
                           config={"Image": "busybox", "Labels": labels or {}})


def test_a_container_event_carries_labels_image_and_name_and_legacy_fields() -> None:
    bus = Events()
    m = bus.container(fake_container(labels={"team": "blue"}), "die", exitCode="3")
    body = m.to_json()
    assert list(body) == ["status", "id", "from", "Type", "Action", "Actor", "scope", "time",
                          "timeNano"]
    assert body["Actor"]["Attributes"] == {"team": "blue", "exitCode": "3",
                                           "image": "busybox", "name": "web"}
    assert (body["status"], body["from"], body["scope"]) == ("die", "busybox", "local")
    assert body["time"] == body["timeNano"] // 1_000_000_000


def test_networks_and_volumes_have_no_legacy_fields() -> None:
    bus = Events()
    body = bus.network("connect", "n1", "front", "bridge", container="c1").to_json()
    assert "status" not in body and body["Actor"]["Attributes"] == {
        "container": "c1", "name": "front", "type": "bridge"}
    assert "id" not in bus.volume("create", "v1", driver="local").to_json()


def test_history_is_bounded_and_replayed_only_for_a_window() -> None:
    bus = Events(history_limit=5)
    for i in range(8):
        bus.log("volume", "create", f"v{i}")
    past, _ = bus.subscribe()
    assert past == []  # no since, no until: only what comes next, as dockerd
    past, _ = bus.subscribe(since_ns=0)
    assert [m.actor_id for m in past] == ["v3", "v4", "v5", "v6", "v7"]


def test_since_and_until_pick_the_window() -> None:
    bus = Events()
    first = bus.log("volume", "create", "a")
    time.sleep(0.01)
    middle = bus.log("volume", "create", "b")
    time.sleep(0.01)
    bus.log("volume", "create", "c")
    past, _ = bus.subscribe(since_ns=first.time_nano + 1, until_ns=middle.time_nano)
    assert [m.actor_id for m in past] == ["b"]


def test_a_subscriber_gets_what_comes_next_filtered() -> None:
    bus = Events()
    _, sub = bus.subscribe(flt=Filter({"type": ["container"], "event": ["start"]}))
    c = fake_container()
    bus.container(c, "create")
    bus.container(c, "start")
    bus.volume("create", "v")
    got = sub.get(timeout=1)
    assert got is not None and got.action == "start"
    assert sub.get(timeout=0.05) is None
    bus.evict(sub)
    assert bus.subscribers() == 0


def msg(type_: str, action: str, actor: str, **attributes: str) -> Message:
    return Message(type_, action, actor, attributes, 1)


def test_filters_as_moby_applies_them() -> None:
    start = msg("container", "start", "abc123", name="web", image="busybox:latest", a="1", b="2")
    assert Filter({"container": ["abc"]}).include(start)  # an ID prefix
    assert Filter({"container": ["web"]}).include(start)  # the name
    assert not Filter({"container": ["xyz"]}).include(start)
    assert Filter({"image": ["busybox"]}).include(start)  # the name without its tag
    assert Filter({"label": ["a=1", "b"]}).include(start)  # every label given
    assert not Filter({"label": ["a=1", "c"]}).include(start)
    assert Filter({"event": ["die", "start"]}).include(start)  # any value of one key
    assert not Filter({"event": ["start"], "type": ["image"]}).include(start)  # every key
    execed = msg("container", "exec_start: sh -c date", "abc123")
    assert Filter({"event": ["exec_start"]}).include(execed)  # by prefix, moby's #25798
    assert not Filter({"event": ["exec"]}).include(execed)
    tag = msg("image", "tag", "sha256:1234", name="me/app:v1")
    assert Filter({"image": ["me/app"]}).include(tag)
    assert Filter({"image": ["sha256:1234"]}).include(tag)


def test_a_slow_reader_never_blocks_the_daemon() -> None:
    """A subscriber that never reads: its queue fills, then its messages are dropped
    (counted), while logging goes on at once and other readers get everything."""
    bus = Events()
    _, stuck = bus.subscribe()
    _, reader = bus.subscribe()
    got: list[Message] = []

    def read() -> None:
        while (m := reader.get(timeout=1)) is not None:
            got.append(m)

    t = threading.Thread(target=read)
    t.start()
    began = time.monotonic()
    for i in range(events.SUBSCRIBER_BUFFER):
        bus.log("volume", "create", f"v{i}")
    deadline = time.monotonic() + 5
    while len(got) < events.SUBSCRIBER_BUFFER and time.monotonic() < deadline:
        time.sleep(0.01)  # the reader keeps up; the stuck one is full now
    for i in range(100):
        bus.log("volume", "create", f"w{i}")
    assert time.monotonic() - began < 5
    t.join()
    assert stuck.dropped == 100
    assert len(got) == events.SUBSCRIBER_BUFFER + 100
