"""`GET /events`: the daemon's events as a stream of JSON objects, one after another.

As dockerd's (daemon/server/router/system/system_routes.go getEvents): with `since`
or `until` the bus's history in that window comes first; then, unless `until` is past,
what happens live, until `until` comes or the client goes. `filters` picks what is
sent (shared/daemon/events.py's Filter).
"""

from __future__ import annotations

import json
import re
import select
import socket
import time
from collections.abc import Iterator

from flask import Blueprint, Response, request

from shared.api.params import current_engine, query_filters
from shared.daemon.events import Filter, Message
from shared.errors import InvalidParameter

bp = Blueprint("events", __name__)

_UNIX = re.compile(r"(-?[0-9]+)(?:\.([0-9]{0,9}))?")
POLL = 0.5  # how often a quiet stream checks its `until` and its client


def parse_unix(name: str) -> int | None:
    """moby's timestamp.ParseUnixTimestamp: "seconds[.nanoseconds]" (what the docker
    CLI sends after turning "10m" or a date into one) -> nanoseconds; "" -> None."""
    value = request.args.get(name, "")
    if not value:
        return None
    m = _UNIX.fullmatch(value.strip())
    if not m:
        raise InvalidParameter(f"invalid value for '{name}': invalid timestamp {value!r}")
    seconds = int(m.group(1))
    nanos = int((m.group(2) or "").ljust(9, "0"))
    return seconds * 1_000_000_000 + (nanos if seconds >= 0 else -nanos)


def _client_gone(sock: socket.socket | None) -> bool:
    """A client that closed its end: the socket reads as EOF (it sends nothing else)."""
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _encode(m: Message) -> bytes:
    return json.dumps(m.to_json(), separators=(",", ":")).encode()  # compact, as Go's


@bp.get("/events")
def events() -> Response:
    engine = current_engine()
    since, until = parse_unix("since"), parse_unix("until")
    if until is not None and since is not None and until < since:
        raise InvalidParameter(
            f"`since` time ({request.args['since']}) cannot be after "
            f"`until` time ({request.args['until']})")
    flt = Filter(query_filters())
    past, sub = engine.events.subscribe(since, until, flt)
    only_past = until is not None and until < time.time_ns()
    sock = request.environ.get("werkzeug.socket")

    def body() -> Iterator[bytes]:
        try:
            # The head goes at once, as dockerd flushes it: a client (docker-py's
            # events()) waits for it before it goes on to do what it will watch.
            yield b""
            for m in past:
                yield _encode(m) + b"\n"
            if only_past:
                return
            while until is None or time.time_ns() < until:
                wait = POLL if until is None else min(POLL, (until - time.time_ns()) / 1e9)
                live = sub.get(timeout=max(wait, 0.0))
                if live is not None:
                    if until is None or live.time_nano <= until:
                        yield _encode(live) + b"\n"
                elif _client_gone(sock):
                    return
        finally:
            engine.events.evict(sub)

    # dockerd answers application/json for API < 1.52 (its stream is not one JSON
    # document, but clients of those versions expect that type).
    return Response(body(), mimetype="application/json")
