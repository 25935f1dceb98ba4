"""Docker's progress messages: one JSON object per line, as `docker pull` receives them.

    {"status": "Pulling from library/busybox", "id": "latest"}
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "a3ed95caeb02"}
    {"status": "Downloading", "progressDetail": {"current": 1024, "total": 2048},
     "progress": "[=========================>                         ]  1.024kB/2.048kB",
     "id": "a3ed95caeb02"}
    {"status": "Pull complete", "progressDetail": {}, "id": "a3ed95caeb02"}
    {"error": "...", "errorDetail": {"message": "..."}}   (an error once streaming began)

The `id` groups lines: a terminal client draws one line per id and rewrites it in
place; anything else prints each line. `progress` is a bar ready to print, for clients
that do not draw their own.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from shared.humanize import human_size

BAR_WIDTH = 50
UPDATE_EVERY = 0.1  # seconds between two "Downloading" lines for one layer

Message = dict


def status(text: str, id: str | None = None, *, detail: bool = True) -> Message:
    message: Message = {"status": text}
    if detail:
        message["progressDetail"] = {}
    if id is not None:
        message["id"] = id
    return message


def progress(text: str, id: str, current: int, total: int) -> Message:
    return {
        "status": text,
        "progressDetail": {"current": current, "total": total},
        "progress": bar(current, total),
        "id": id,
    }


def error(message: str) -> Message:
    return {"errorDetail": {"message": message}, "error": message}


def bar(current: int, total: int) -> str:
    """`[=====>       ]  1.2MB/3.4MB`, as Docker's JSONProgress.String() draws it
    (without the time left): 50 columns, one `=` per 2%, then `>`."""
    if total <= 0:
        return f"{human_size(current):>8}"
    filled = min(BAR_WIDTH, current * 100 // total // 2)
    return (f"[{'=' * filled}>{' ' * (BAR_WIDTH - filled)}] "
            f"{human_size(current):>8}/{human_size(total)}")


def encode(message: Message) -> bytes:
    return json.dumps(message).encode() + b"\r\n"


def short(digest: str) -> str:
    """A layer's id in progress lines: 12 hex digits of its digest."""
    return digest.removeprefix("sha256:")[:12]


class Reporter:
    """Sends messages to `emit`, from many download threads at once, and keeps
    "Downloading" lines to a few a second per layer (a 100 MB layer would otherwise
    send thousands)."""

    def __init__(self, emit: Callable[[Message], None]) -> None:
        self._emit = emit
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}

    def __call__(self, message: Message) -> None:
        with self._lock:
            self._emit(message)

    def status(self, text: str, id: str | None = None, *, detail: bool = True) -> None:
        self(status(text, id, detail=detail))

    def progress(self, text: str, id: str, current: int, total: int) -> None:
        now = time.monotonic()
        if current < total and now - self._last.get(id, 0.0) < UPDATE_EVERY:
            return
        self._last[id] = now
        self(progress(text, id, current, total))
