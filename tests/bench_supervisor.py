"""`make bench`, supervisor part: what watching containers costs, each stage beside docker.

Two numbers per engine, each the median of a few runs:

    stats --no-stream   wall time of one `docker stats --no-stream ID` of a running
                        container (the CLI, one GET /containers/ID/stats?stream=false:
                        the cgroup read, twice, a CPU sample apart... as the engine does it)
    events latency      from the moment `docker run --rm busybox true` is started to the
                        moment a client already subscribed to GET /events (docker-py's
                        events(), filtered on this container's name) reads its `start`

One engine at a time (a fair share of the 2 cores), each stopped before the next.
"""

from __future__ import annotations

import contextlib
import queue
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import docker

from tests.engines import Engine, start_engine

STATS = "docker stats --no-stream"
EVENTS = "events: run -> start seen"


def stats_ms(cli: list[str], runs: int) -> float:
    """Median time of `docker stats --no-stream` on one running container."""
    cid = subprocess.run([*cli, "run", "-d", "--network", "none", "busybox", "sleep", "600"],
                         capture_output=True, text=True, check=True).stdout.strip()
    try:
        times = []
        for i in range(runs + 1):  # the first is a warm-up, not counted
            start = time.perf_counter()
            subprocess.run([*cli, "stats", "--no-stream", cid], capture_output=True, check=True)
            if i:
                times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)
    finally:
        subprocess.run([*cli, "rm", "-f", cid], capture_output=True)


@contextlib.contextmanager
def start_events(host: str) -> Iterator[queue.Queue[tuple[float, str]]]:
    """A subscribed GET /events reader: (arrival time, container name) of each start."""
    client = docker.APIClient(base_url=host, timeout=60)
    seen: queue.Queue[tuple[float, str]] = queue.Queue()
    stream = client.events(decode=True, filters={"type": "container", "event": "start"})

    def read() -> None:
        with contextlib.suppress(Exception):  # the stream is closed at the end
            for event in stream:
                seen.put((time.perf_counter(), event["Actor"]["Attributes"]["name"]))

    threading.Thread(target=read, daemon=True).start()
    try:
        yield seen
    finally:
        stream.close()
        client.close()


def events_ms(cli: list[str], host: str, runs: int) -> float:
    """Median time from starting `docker run --rm busybox true` to its start event."""
    times = []
    with start_events(host) as seen:
        for i in range(runs + 1):
            name = f"wb-bench-ev-{uuid.uuid4().hex[:8]}"
            start = time.perf_counter()
            run = subprocess.Popen([*cli, "run", "--rm", "--name", name, "busybox", "true"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            while True:
                at, who = seen.get(timeout=60)
                if who == name:
                    break
            _, err = run.communicate(timeout=60)
            if run.returncode != 0:
                raise RuntimeError(f"docker run --rm busybox true: {err.decode()}")
            if i:
                times.append((at - start) * 1000)
    return statistics.median(times)


def measure(engine: Engine, runs: int) -> dict[str, float]:
    cli = ["docker", "-H", engine.host]
    return {STATS: stats_ms(cli, runs), EVENTS: events_ms(cli, engine.host, runs)}


def bench_supervisor(names: list[str], runs: int) -> dict[str, dict[str, float]]:
    """{engine: {measure: median ms}}; "docker" is the reference dockerd."""
    results: dict[str, dict[str, float]] = {}
    for name in names:
        with start_engine("reference" if name == "docker" else name) as engine:
            results[name] = measure(engine, runs)
    return results


def report(results: dict[str, dict[str, float]], runs: int) -> None:
    base = results.get("docker", {})
    print(f"\nthe daemon as supervisor, median of {runs} runs each")
    print(f"{'engine':12} {'measure':30} {'median ms':>10} {'x docker':>9}")
    for name, measures in results.items():
        for what, ms in measures.items():
            ratio = f"{ms / base[what]:.2f}" if base.get(what) else "-"
            print(f"{name:12} {what:30} {ms:10.1f} {ratio:>9}")
