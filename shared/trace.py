"""Trace mode: each component writes down the calls it makes and serves, with timings.

Set WHALEBONES_TRACE to a file before starting a stage (and the client): every process
of the engine, the client, the daemon, containerd, each shim, each runc, appends one
JSON line per event to that file, so one file tells the path of a request through
every component of the era:

    {"t": 1764380000.123, "mono": 5123.456789, "loaded": 5123.401, "ms": 2.1,
     "pid": 4242, "component": "daemon", "kind": "call", "what": "Tasks.Create",
     "peer": "containerd"}

    kind   call   this component asked `peer` for something, and waited `ms` for it
           serve  this component was asked for something, and took `ms` to answer
           work   this component did something itself (a mount, the spec), taking `ms`
           step   a moment worth marking (`ms` is 0): a kernel call in a container's init

    t       wall-clock start (time.time), for people
    mono    CLOCK_MONOTONIC start (time.monotonic): one clock for the whole system, so
            events of different processes can be laid on one line (tests/bench_profile.py
            does, to split a container's run into phases)
    loaded  CLOCK_MONOTONIC when this process imported this module: what came before
            it (the interpreter's start, the first imports) is the process's start-up
    tid     the thread (a span's): spans of two threads of a daemon may overlap in
            time without one being part of the other

The processes inherit the variable from whoever started them (containerd from the
shell, a shim from containerd, runc from the shim), and write with O_APPEND, one
write(2) per line: lines from many processes interleave whole, never torn.

Off (the default), `span` and `step` cost one global lookup: trace mode must not slow
what it measures. `python -m shared.trace FILE` prints a trace as an indented timeline.
"""

from __future__ import annotations

import _thread  # built in: get_native_id without importing threading
import json
import os
import sys
import time

PATH = os.environ.get("WHALEBONES_TRACE") or ""
LOADED = round(time.monotonic(), 6) if PATH else 0.0  # see `loaded` above


_fd: int | None = None  # kept open, so that a container's init can still write after
_file_id: tuple[int, int] | None = None  # pivot_root, when the path is out of its sight


def fds() -> set[int]:
    """The fd to keep open across a close-every-other-fd (libcontainer's init)."""
    _open()
    return {_fd} if _fd is not None else set()


def _open() -> int | None:
    global _fd, _file_id
    if not PATH:
        return None
    if _fd is not None:
        try:
            st = os.fstat(_fd)
            if (st.st_dev, st.st_ino) == _file_id:
                return _fd
        except OSError:
            pass
        _fd = None  # closed under us, and perhaps its number reused: never write to it
    try:
        _fd = os.open(PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return None  # e.g. a container's init that closed it and pivoted away
    st = os.fstat(_fd)
    _file_id = (st.st_dev, st.st_ino)
    return _fd


def _write(record: dict) -> None:
    fd = _open()
    if fd is not None:
        try:  # O_APPEND and one write(2) per line: whole lines, from any number of writers
            os.write(fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())
        except OSError:
            pass


class span:  # noqa: N801 - used as `with trace.span(...)`, like a function
    """Time a `with` block as one event, written when the block ends (even by an
    error). A class rather than @contextmanager: the client imports this module on
    every command, and contextlib is start-up time it does not need."""

    __slots__ = ("component", "kind", "what", "peer", "start", "mono", "clock")

    def __init__(self, component: str, kind: str, what: str, peer: str = "") -> None:
        self.component, self.kind, self.what, self.peer = component, kind, what, peer

    def __enter__(self) -> None:
        if PATH:
            self.start = time.time()
            self.mono = time.monotonic()
            self.clock = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        if PATH:
            _write({"t": round(self.start, 6), "mono": round(self.mono, 6), "loaded": LOADED,
                    "ms": round((time.perf_counter() - self.clock) * 1000, 2),
                    "pid": os.getpid(), "tid": _thread.get_native_id(),
                    "component": self.component, "kind": self.kind,
                    "what": self.what, "peer": self.peer})


def step(component: str, what: str) -> None:
    if PATH:
        _write({"t": round(time.time(), 6), "mono": round(time.monotonic(), 6),
                "loaded": LOADED, "ms": 0, "pid": os.getpid(),
                "component": component, "kind": "step", "what": what, "peer": ""})


def load(path: str) -> list[dict]:
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return sorted(records, key=lambda r: r["t"])


def timeline(records: list[dict]) -> str:
    """One line per event, in start order, indented by nesting (a span that starts
    inside another one's time, in any process, is drawn below it)."""
    if not records:
        return "(empty trace)"
    t0 = records[0]["t"]
    open_ends: list[float] = []
    lines = []
    for r in records:
        while open_ends and r["t"] >= open_ends[-1]:
            open_ends.pop()
        depth = len(open_ends)
        arrow = {"call": f"-> {r['peer']}", "serve": "<-", "work": "..",
                 "step": "*"}[r["kind"]]
        took = f"{r['ms']:8.1f} ms" if r["kind"] != "step" else " " * 11
        lines.append(f"{(r['t'] - t0) * 1000:8.1f} {took}  {'  ' * depth}"
                     f"{r['component']}[{r['pid']}] {arrow} {r['what']}")
        if r["kind"] != "step":
            open_ends.append(r["t"] + r["ms"] / 1000)
            open_ends.sort(reverse=True)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m shared.trace TRACE_FILE", file=sys.stderr)
        return 2
    print(timeline(load(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
