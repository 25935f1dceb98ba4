"""`events`: what the daemon does, as it happens (or in a window: --since, --until)."""

from __future__ import annotations

import datetime
import json
import re
import sys
import time

from shared.client.api import Client
from shared.client.commands.network import _filter, _filters_query
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "events",
    "[OPTIONS]",
    "Get real time events from the server",
    [
        Flag("-f, --filter", "Filter output based on conditions provided", metavar="filter",
             many=True, convert=_filter),
        Flag("--format", "Format output using a custom template: 'json' or '{{json .}}'",
             metavar="string"),
        Flag("--since", "Show all events created since timestamp", metavar="string"),
        Flag("--until", "Stream events until this timestamp", metavar="string"),
    ],
    max_args=0,
)

_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def timestamp(value: str, now: float) -> str:
    """The docker CLI's GetTimestamp: a Unix time goes as it is; a duration ("10m")
    counts back from now; a date (RFC 3339) is turned into a Unix time."""
    text = value.strip()
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return text
    if _DURATION.sub("", text) == "" and text:
        seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(text))
        return f"{now - seconds:.9f}"
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"invalid timestamp or duration: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a date without a zone is the local time
    return f"{moment.timestamp():.9f}"


def window(options: dict[str, Any]) -> dict[str, str]:
    """--since and --until as the query sends them (Unix times), for events and logs."""
    now = time.time()
    return {key: timestamp(options[key], now) for key in ("since", "until") if options[key]}


def line(event: dict[str, Any]) -> str:
    """The docker CLI's default: time, type, action, actor and its attributes."""
    nanos = int(event.get("timeNano") or 0)
    moment = datetime.datetime.fromtimestamp(nanos // 1_000_000_000).astimezone()
    offset = moment.strftime("%z")  # Go's Z07:00: "Z" in UTC, else "+01:00"
    zone = "Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}"
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos % 1_000_000_000:09d}" + zone
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    text = f"{stamp} {event.get('Type')} {event.get('Action')} {actor.get('ID')}"
    if attributes:
        text += " (" + ", ".join(f"{k}={attributes[k]}" for k in sorted(attributes)) + ")"
    return text


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    query: dict[str, Any] = dict(_filters_query(options["filter"]) or {})
    try:
        query.update(window(options))
    except ValueError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    form = (options["format"] or "").strip()
    as_json = form in ("json", "{{json .}}")
    if form and not as_json:
        print("Error: only --format json or '{{json .}}' is supported", file=sys.stderr)
        return 1
    response = client.stream("GET", "/events", query=query)
    buffer = b""
    try:
        for chunk in response.chunks():
            buffer += chunk
            while b"\n" in buffer:
                raw, buffer = buffer.split(b"\n", 1)
                if raw.strip():
                    event = json.loads(raw)
                    print(json.dumps(event) if as_json else line(event), flush=True)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        response.close()
    return 0
