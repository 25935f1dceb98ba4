"""The daemon's events: what happened, to whom, when, for `docker events` to watch.

Every era's daemon kept this bus (moby's daemon/events): whatever changes a container,
an image, a network or a volume logs a message, and each `GET /events` is a subscriber
that hears them as they come. Three rules shape it, all dockerd's:

- A bounded history. The last HISTORY_LIMIT messages are kept (moby's eventsLimit, 256),
  so `docker events --since 5m` can replay what happened before the client came. Older
  ones are forgotten: the daemon must not grow without end.
- A slow reader never blocks the daemon. A container's exit logs "die" from the thread
  that records the exit; if a subscriber's queue is full (SUBSCRIBER_BUFFER, moby's
  pubsub buffer of 1024) the message is dropped for that subscriber alone, rather than
  make the exit wait on a client that stopped reading (moby waits 100 ms, then skips).
- Filters are applied at the source (moby's events.Filter), so a subscriber's queue
  only holds what it asked for.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

HISTORY_LIMIT = 256
SUBSCRIBER_BUFFER = 1024

# Actions whose messages carry the command after a colon ("exec_start: sh -c true"):
# a filter naming one alone matches them by prefix (moby's matchEvent, #25798).
PREFIXED_ACTIONS = ("exec_create", "exec_start", "health_status")


@dataclass(frozen=True)
class Message:
    """One event, as moby's api/types/events.Message."""

    type: str
    action: str
    actor_id: str
    attributes: dict[str, str]
    time_nano: int
    scope: str = "local"

    def to_json(self) -> dict:
        """dockerd's JSON, in its field order, with the legacy fields (status, id,
        from) that dockerd still fills for containers and images (API < 1.52): the
        docker CLI before 25 and docker-py's older users read them."""
        body: dict = {}
        if self.type in ("container", "image"):
            body["status"] = self.action
            if self.actor_id:  # Go's omitempty: a prune has no actor
                body["id"] = self.actor_id
            if self.type == "container" and self.attributes.get("image"):
                body["from"] = self.attributes["image"]
        body.update(Type=self.type, Action=self.action,
                    Actor={"ID": self.actor_id, "Attributes": dict(self.attributes)},
                    scope=self.scope, time=self.time_nano // 1_000_000_000,
                    timeNano=self.time_nano)
        return body


# ------------------------------------------------------------------- filters


def _familiar_name(image: str) -> str:
    """busybox:latest -> busybox (moby's stripTag: the name without tag or digest)."""
    from shared.images import reference

    try:
        return reference.parse_named(image).familiar()
    except Exception:  # not a reference at all: compared as given
        return image


@dataclass
class Filter:
    """moby's daemon/events/filter.go: every given key must match (values of one key:
    any of them). Names and IDs of containers, networks and volumes match by ID prefix
    or exact name; images by ID, name, or name without its tag."""

    filters: dict[str, list[str]] = field(default_factory=dict)

    def include(self, m: Message) -> bool:
        f = self.filters
        if "type" in f and m.type not in f["type"]:
            return False
        if "event" in f and not self._action(m.action, f["event"]):
            return False
        if "scope" in f and m.scope not in f["scope"]:
            return False
        for kind in ("container", "network", "volume", "daemon", "plugin"):
            if kind in f and not self._named(m, kind, f[kind]):
                return False
        if "image" in f and not self._image(m, f["image"]):
            return False
        return "label" not in f or _has_labels(m.attributes, f["label"])

    @staticmethod
    def _action(action: str, wanted: list[str]) -> bool:
        if any(w in PREFIXED_ACTIONS for w in wanted):
            return any(action.startswith(w) for w in wanted)  # moby's FuzzyMatch
        return action in wanted

    @staticmethod
    def _named(m: Message, kind: str, wanted: list[str]) -> bool:
        """moby's fuzzyMatchName: the actor's ID or name starts with a value given
        (whatever the event's type: so a container filter keeps, in practice, that
        container's events alone)."""
        name = m.attributes.get("name", "")
        return any(m.actor_id.startswith(w) or name.startswith(w) for w in wanted)

    @staticmethod
    def _image(m: Message, wanted: list[str]) -> bool:
        name = m.attributes.get("name" if m.type == "image" else "image", "")
        candidates = {m.actor_id, name, _familiar_name(m.actor_id), _familiar_name(name)}
        return any(w in candidates for w in wanted)


def _has_labels(attributes: dict[str, str], wanted: list[str]) -> bool:
    """moby's MatchKVList: every `K` or `K=V` given is among the attributes."""
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in attributes or (sep and attributes[key] != value):
            return False
    return True


# ------------------------------------------------------------------- the bus


class Subscription:
    """One reader's queue. `get` blocks until a message comes, or returns None after
    `timeout` seconds (the route checks its `until` and its client between waits)."""

    def __init__(self, flt: Filter) -> None:
        self.filter = flt
        self._queue: queue.Queue[Message] = queue.Queue(SUBSCRIBER_BUFFER)
        self.dropped = 0  # messages this reader missed because it fell behind

    def offer(self, m: Message) -> None:
        if not self.filter.include(m):
            return
        try:
            self._queue.put_nowait(m)
        except queue.Full:
            self.dropped += 1

    def get(self, timeout: float | None = None) -> Message | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Events:
    def __init__(self, history_limit: int = HISTORY_LIMIT) -> None:
        self._lock = threading.Lock()
        self._history: collections.deque[Message] = collections.deque(maxlen=history_limit)
        self._subscribers: list[Subscription] = []

    def log(self, type_: str, action: str, actor_id: str,
            attributes: dict[str, str] | None = None) -> Message:
        m = Message(type_, action, actor_id, dict(attributes or {}), time.time_ns())
        self.publish(m)
        return m

    def publish(self, m: Message) -> None:
        # Under the lock, so that a new subscriber sees each message once: either in
        # the history it is handed or in its queue, never both, never neither.
        with self._lock:
            self._history.append(m)
            for s in self._subscribers:
                s.offer(m)  # never blocks: a full queue drops

    def subscribe(self, since_ns: int | None = None, until_ns: int | None = None,
                  flt: Filter | None = None) -> tuple[list[Message], Subscription]:
        """The past messages in [since, until] that the filter keeps (none unless a
        since or until is given, as dockerd), and a subscription for what comes next."""
        flt = flt or Filter()
        sub = Subscription(flt)
        with self._lock:
            past: list[Message] = []
            if since_ns is not None or until_ns is not None:
                past = [m for m in self._history
                        if (since_ns is None or m.time_nano >= since_ns)
                        and (until_ns is None or m.time_nano <= until_ns)
                        and flt.include(m)]
            self._subscribers.append(sub)
        return past, sub

    def evict(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)

    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)

    # ------------------------------------------------------------ who logs what
    # moby's daemon/events.go: each kind of actor carries the attributes users filter on.

    def container(self, c: ContainerLike, action: str, **extra: str) -> Message:
        """A container's labels, its image as the user named it, and its name."""
        attributes = dict(c.config.get("Labels") or {})
        attributes.update(extra)
        if c.config.get("Image"):
            attributes["image"] = c.config["Image"]
        attributes["name"] = c.name
        return self.log("container", action, c.id, attributes)

    def image(self, action: str, image_id: str, name: str,
              labels: dict[str, str] | None = None) -> Message:
        """moby's LogImageEvent: the image's labels (while it exists) and a name."""
        attributes = dict(labels or {})
        if name:
            attributes["name"] = name
        return self.log("image", action, image_id, attributes)

    def network(self, action: str, net_id: str, name: str, driver: str,
                **extra: str) -> Message:
        return self.log("network", action, net_id, {**extra, "name": name, "type": driver})

    def network_prune(self) -> Message:
        """moby's localNetworksPrune: no actor, and nothing counted as reclaimed."""
        return self.log("network", "prune", "", {"reclaimed": "0"})

    def volume(self, action: str, name: str, **attributes: str) -> Message:
        return self.log("volume", action, name, attributes)


class ContainerLike(Protocol):
    id: str
    name: str
    config: dict


def parse_filters(raw: dict[str, Iterable[str]]) -> Filter:
    return Filter({k: list(v) for k, v in raw.items()})
