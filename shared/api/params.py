"""Reading a request the way Docker's API does: query booleans, integers, JSON bodies."""

from __future__ import annotations

import json

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


def json_body() -> dict:
    raw = _body_bytes()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as e:
        raise InvalidParameter(f"invalid JSON: {e}") from None
    if not isinstance(body, dict):
        raise InvalidParameter("invalid JSON: the body must be an object")
    return body


def query_filters() -> dict[str, list[str]]:
    """The `filters` query parameter: JSON, name -> values. Old clients send
    {"name": {"x": true}}, new ones {"name": ["x"]}; both come out as lists."""
    raw = request.args.get("filters")
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise InvalidParameter(f"invalid filters: {raw!r}") from None
    if not isinstance(parsed, dict):
        raise InvalidParameter(f"invalid filters: {raw!r}")
    return {k: (list(v) if isinstance(v, dict | list) else [v]) for k, v in parsed.items()}
