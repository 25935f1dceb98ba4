"""Reading a request the way Docker's API does: query booleans, integers, JSON bodies."""

from __future__ import annotations

import json
import math

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from shared.daemon.engine import Engine
from shared.errors import InvalidParameter


def current_engine() -> Engine:
    """The daemon's engine, which create_app() put in the Flask app."""
    return current_app.extensions["whalebones.engine"]


def qbool(name: str, default: bool = False) -> bool:
    """Docker's query booleans: false only for "", 0, no, false, none (any case)."""
    value = request.args.get(name)
    if value is None:
        return default
    return value.strip().lower() not in ("", "0", "no", "false", "none")


def qint(name: str, default: int | None = None) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidParameter(f"invalid value for {name}: {value!r}") from None


# The largest JSON body a client sends is a create request: an env and labels of some
# kilobytes. dockerd sets no limit, but a daemon that buffers a body whole (ours does:
# get_data) must, or one request of gigabytes takes its memory. 4 MiB is a thousand
# times a large create. Not for tar bodies (/images/load, /images/create's import,
# /build), which are streamed and may be gigabytes.
MAX_JSON_BODY = 4 << 20


def _body_bytes() -> bytes:
    """The request's body, read once (a route may parse it twice), at most MAX_JSON_BODY."""
    if "_json_raw" not in g:
        if (request.content_length or 0) > MAX_JSON_BODY:
            raise RequestEntityTooLarge(f"request body exceeds {MAX_JSON_BODY} bytes")
        raw = request.stream.read(MAX_JSON_BODY + 1)  # a chunked body has no length
        if len(raw) > MAX_JSON_BODY:
            raise RequestEntityTooLarge(f"request body exceeds {MAX_JSON_BODY} bytes")
        g._json_raw = raw
    return g._json_raw


# The deepest JSON a request may hold. A real one nests five levels (HostConfig, Mounts,
# a mount, VolumeOptions, DriverConfig); Python's parser stops near a thousand with a
# RecursionError, and a document nested nearly that deep, once accepted, could no longer
# be written back (the record, `docker inspect`) from a request's already deep stack.
MAX_JSON_DEPTH = 64


def _depth(value: object) -> int:
    """How deeply `value` nests, counted without recursion (it may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(raw: str | bytes, what: str) -> object:
    """JSON from a client, or a 400 that names `what`: malformed, nested too deeply
    (Python's json raises RecursionError there, which is no client's 500), or holding
    NaN or an infinity (Python's json reads them; Go's, dockerd's, refuses them)."""
    def no_constant(name: str) -> object:
        raise ValueError(f"{name} is not a JSON value")

    def finite(text: str) -> float:
        number = float(text)
        if math.isinf(number):  # 1e999: Python makes it an infinity, Go refuses it
            raise ValueError(f"number {text} is out of range")
        return number

    try:
        value = json.loads(raw, parse_constant=no_constant, parse_float=finite)
    except RecursionError:
        raise InvalidParameter(f"{what}: nested too deeply") from None
    except ValueError as e:  # UnicodeDecodeError is one
        raise InvalidParameter(f"{what}: {e}") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise InvalidParameter(f"{what}: nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def json_body() -> dict:
    raw = _body_bytes()
    if not raw.strip():
        return {}
    body = parse_json(raw, "invalid JSON")
    if not isinstance(body, dict):
        raise InvalidParameter("invalid JSON: the body must be an object")
    return body


def query_filters(name: str = "filters") -> dict[str, list[str]]:
    """The `filters` query parameter, as moby's filters.FromJSON reads it: name -> values.

    Two forms exist: {"name": {"x": true}} (the map moby keeps, which the docker CLI
    sends) and {"name": ["x"]} (the older list form); both come out as lists. Anything
    else, an item of another type included, is dockerd's "invalid filter" (a 400). A
    name with no values filters nothing, as in moby."""
    raw = request.args.get(name)
    if not raw:
        return {}
    parsed = parse_json(raw, "invalid filter")
    if not isinstance(parsed, dict):
        raise InvalidParameter("invalid filter")
    filters: dict[str, list[str]] = {}
    for key, values in parsed.items():
        if isinstance(values, dict) and all(isinstance(v, bool) for v in values.values()):
            items = list(values)
        elif isinstance(values, list) and all(isinstance(v, str) for v in values):
            items = values
        elif values is None:
            items = []
        else:
            raise InvalidParameter(f"invalid filter '{key}'")
        if items:
            filters[key] = items
    return filters


def accepted_filters(accepted: set[str], name: str = "filters") -> dict[str, list[str]]:
    """query_filters, with moby's filters.Args.Validate: a filter name the route does not
    take is a 400 "invalid filter 'NAME'", never one silently dropped."""
    filters = query_filters(name)
    for key in filters:
        if key not in accepted:
            raise InvalidParameter(f"invalid filter '{key}'")
    return filters

