"""`docker stats`: one reading of a running container, in dockerd's JSON.

The cgroup's counters come from the executor (shared/cgroupstats.py reads them: the
daemon itself in stages 1-2, containerd's Tasks.Metrics in stages 3-4). The daemon adds
what only it knows. Network bytes are per interface, so they are read inside the
container's network namespace: /proc/<pid>/net/dev shows the namespace of <pid>. The
CLI computes CPU% from two readings: (container CPU delta / whole-system CPU delta) *
online CPUs, so each carries the system's CPU time from /proc/stat too (moby
daemon/stats_unix.go).
"""

from __future__ import annotations

from collections.abc import Callable

from shared.cgroupstats import machine_memory, read, system_cpu
from shared.daemon.state import Container, rfc3339


def network_stats(pid: int) -> dict[str, dict[str, int]]:
    """Per interface of the container's network namespace, its loopback left out."""
    keys = ["rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
            "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"]
    out = {}
    for line in (read(f"/proc/{pid}/net/dev") or "").splitlines()[2:]:
        name, _, rest = line.partition(":")
        name, fields = name.strip(), rest.split()
        if name == "lo" or len(fields) < 16:
            continue
        # receive: bytes packets errs drop fifo frame compressed multicast; then transmit
        numbers = [int(v) for v in fields[0:4] + fields[8:12]]
        out[name] = dict(zip(keys, numbers, strict=True))
    return out


EMPTY_BLKIO = {k: None for k in (
    "io_service_bytes_recursive", "io_serviced_recursive", "io_queue_recursive",
    "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
    "io_time_recursive", "sectors_recursive")}


def empty(c: Container) -> dict:
    """What dockerd answers for a container that does not run: zeros."""
    return {"read": rfc3339(0), "preread": rfc3339(0), "pids_stats": {},
            "blkio_stats": dict(EMPTY_BLKIO), "num_procs": 0, "storage_stats": {},
            "cpu_stats": _zero_cpu(), "precpu_stats": _zero_cpu(), "memory_stats": {},
            "name": "/" + c.name, "id": c.id}


def _zero_cpu() -> dict:
    return {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0,
                          "usage_in_usermode": 0},
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}


def sample(c: Container, pid: int, now: Callable[[], float], networked: bool,
           raw: dict) -> dict:
    """One reading of a running container, without its precpu_stats. `raw`: its
    cgroup's counters (shared/cgroupstats.metrics), from wherever the era reads them."""
    system, cpus = system_cpu()
    memory = raw["memory"]
    machine = machine_memory()
    if memory["limit"] > machine > 0:  # no limit: the machine's memory is (as moby)
        memory["limit"] = machine
    blkio = dict(EMPTY_BLKIO)
    blkio.update(raw["blkio"])
    out = {
        "read": rfc3339(now()), "preread": rfc3339(0),
        "pids_stats": raw["pids"], "blkio_stats": blkio, "num_procs": 0, "storage_stats": {},
        "cpu_stats": {"cpu_usage": raw["cpu_usage"], "system_cpu_usage": system,
                      "online_cpus": cpus, "throttling_data": raw["throttling_data"]},
        "memory_stats": memory, "name": "/" + c.name, "id": c.id,
    }
    if networked:
        out["networks"] = network_stats(pid)
    return out


def with_previous(current: dict, previous: dict | None) -> dict:
    """The CLI's percentages need the previous reading: it rides along as precpu_stats."""
    if previous is None:
        current["precpu_stats"] = _zero_cpu()
    else:
        current["precpu_stats"] = previous["cpu_stats"]
        current["preread"] = previous["read"]
    return current
