"""The json-file log driver: one JSON object per line of output, as Docker writes them.

    {"log":"hello\\n","stream":"stdout","time":"2026-11-28T15:00:00.123456789Z"}

Output is split at newlines so `docker logs --tail 3` means three lines; a line longer
than 16 KiB is cut into several entries, as Docker does, so one runaway line cannot
make the daemon hold unbounded memory.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from shared.daemon.state import rfc3339

MAX_LINE = 16 * 1024


@dataclass(frozen=True)
class Entry:
    stream: str  # "stdout" | "stderr"
    data: bytes
    time: str


class JsonFileLog:
    """Appends a container's output to `<id>-json.log`; readers follow the same file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._partial: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - lives with the container

    def write(self, stream: str, data: bytes) -> None:
        with self._lock:
            buf = self._partial[stream] + data
            lines = buf.split(b"\n")
            self._partial[stream] = lines.pop()
            out = [line + b"\n" for line in lines]
            while len(self._partial[stream]) >= MAX_LINE:
                out.append(self._partial[stream][:MAX_LINE])
                self._partial[stream] = self._partial[stream][MAX_LINE:]
            self._append(stream, out)

    def _append(self, stream: str, chunks: list[bytes]) -> None:
        if not chunks:
            return
        now = rfc3339(time.time())
        text = "".join(
            json.dumps({"log": c.decode("utf-8", "replace"), "stream": stream, "time": now})
            + "\n"
            for c in chunks
        )
        self._file.write(text.encode())

    def close(self) -> None:
        """Flush a last line that had no newline, then close."""
        with self._lock:
            for stream, rest in self._partial.items():
                if rest:
                    self._append(stream, [rest])
                self._partial[stream] = b""
            self._file.close()


def _parse(line: bytes) -> Entry | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None  # a line half-written when the daemon was killed
    return Entry(obj.get("stream", "stdout"), obj.get("log", "").encode(), obj.get("time", ""))


def read(
    path: str,
    streams: set[str],
    tail: int | None = None,
    follow: bool = False,
    still_running: Callable[[], bool] = lambda: False,
    stop: threading.Event | None = None,
) -> Iterator[Entry]:
    """Entries of the chosen streams: the last `tail` of them, then (follow) new ones
    until the container stops."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed in finally
    except FileNotFoundError:
        return
    try:
        lines: deque[bytes] | list[bytes]
        lines = deque(f, maxlen=tail) if tail is not None else f.readlines()
        for line in lines:
            entry = _parse(line)
            if entry and entry.stream in streams:
                yield entry
        if not follow:
            return
        pending = b""
        while True:
            chunk = f.readline()
            if chunk:
                pending += chunk
                if pending.endswith(b"\n"):
                    entry = _parse(pending)
                    pending = b""
                    if entry and entry.stream in streams:
                        yield entry
                continue
            if stop is not None and stop.is_set():
                return
            if not still_running():
                # One last read: the container may have written just before it exited.
                rest = f.read()
                for line in rest.splitlines():
                    entry = _parse(line)
                    if entry and entry.stream in streams:
                        yield entry
                return
            time.sleep(0.05)
    finally:
        f.close()


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
