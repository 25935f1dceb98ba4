"""A cgroup's counters, read from the kernel's files: what `docker stats` reports.

The kernel counts what a group of processes uses per cgroup: CPU time (cpuacct.usage
on v1, cpu.stat's usage_usec on v2), memory (memory.usage_in_bytes / memory.current,
with the detail of memory.stat), tasks (pids.current), block I/O (blkio / io.stat).
The group is the one a process is in, as /proc/<pid>/cgroup names it: the same files
whoever made the cgroup (LXC, our libcontainer, runc). Who reads them is the era's
story: the daemon itself in stages 1-2 (as dockerd asked libcontainer), containerd in
stage 3 and the shim in stage 4 (Tasks.Metrics, as dockerd asks containerd).

`metrics(pid)` answers in dockerd's field names (moby daemon/stats_unix.go statsV1 and
statsV2), less what only the daemon knows (the system's CPU time, the networks).
"""

from __future__ import annotations

import os

CGROUP_ROOT = "/sys/fs/cgroup"
CLOCK_TICKS = 100  # sysconf(_SC_CLK_TCK) on Linux: /proc/stat and cpuacct.stat count in it
NS_PER_S = 1_000_000_000


def read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _int(path: str) -> int:
    text = (read(path) or "").strip()
    return int(text) if text.isdigit() else 0


def _kv(path: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in (read(path) or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[key] = int(value)
    return out


def is_v2() -> bool:
    return os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers"))


def cgroup_dirs(pid: int) -> dict[str, str]:
    """controller -> its directory for `pid` (v2: the one directory, under "")."""
    dirs: dict[str, str] = {}
    for line in (read(f"/proc/{pid}/cgroup") or "").splitlines():
        _, controllers, path = line.split(":", 2)
        if not controllers:
            if is_v2():
                dirs[""] = CGROUP_ROOT + path
            continue
        for name in controllers.split(","):
            dirs[name.removeprefix("name=")] = os.path.join(CGROUP_ROOT, controllers,
                                                            path.lstrip("/"))
    return dirs


def system_cpu() -> tuple[int, int]:
    """The whole machine's CPU time in ns (the first 7 fields of /proc/stat's `cpu`
    line, as moby adds them) and the number of CPUs online."""
    total, cpus = 0, 0
    for line in (read("/proc/stat") or "").splitlines():
        if not line.startswith("cpu"):
            break
        if line.startswith("cpu "):
            total = sum(int(v) for v in line.split()[1:8]) * NS_PER_S // CLOCK_TICKS
        elif line[3].isdigit():
            cpus += 1
    return total, cpus


def machine_memory() -> int:
    for line in (read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def _blkio_v1(path: str) -> list[dict]:
    entries = []
    for line in (read(path) or "").splitlines():
        parts = line.split()
        if len(parts) == 3 and ":" in parts[0]:
            major, minor = parts[0].split(":")
            entries.append({"major": int(major), "minor": int(minor), "op": parts[1],
                            "value": int(parts[2])})
    return entries


def _v1(dirs: dict[str, str]) -> dict:
    cpu_dir, mem, pids, blkio = (dirs.get("cpuacct", ""), dirs.get("memory", ""),
                                 dirs.get("pids", ""), dirs.get("blkio", ""))
    percpu = [int(v) for v in (read(f"{cpu_dir}/cpuacct.usage_percpu") or "").split()]
    ticks = _kv(f"{cpu_dir}/cpuacct.stat")
    throttling = _kv(f"{dirs.get('cpu', cpu_dir)}/cpu.stat")
    io = _blkio_v1(f"{blkio}/blkio.io_service_bytes_recursive")
    if not io:  # the CFQ counters are empty under blk-mq: the throttle layer counts
        io = _blkio_v1(f"{blkio}/blkio.throttle.io_service_bytes_recursive")
    serviced = (_blkio_v1(f"{blkio}/blkio.io_serviced_recursive")
                or _blkio_v1(f"{blkio}/blkio.throttle.io_serviced_recursive"))
    pids_max = (read(f"{pids}/pids.max") or "").strip()
    return {
        "cpu_usage": {
            "total_usage": _int(f"{cpu_dir}/cpuacct.usage"),
            "percpu_usage": percpu,
            "usage_in_kernelmode": ticks.get("system", 0) * NS_PER_S // CLOCK_TICKS,
            "usage_in_usermode": ticks.get("user", 0) * NS_PER_S // CLOCK_TICKS,
        },
        "throttling_data": {"periods": throttling.get("nr_periods", 0),
                            "throttled_periods": throttling.get("nr_throttled", 0),
                            "throttled_time": throttling.get("throttled_time", 0)},
        "memory": {"usage": _int(f"{mem}/memory.usage_in_bytes"),
                   "max_usage": _int(f"{mem}/memory.max_usage_in_bytes"),
                   "stats": _kv(f"{mem}/memory.stat"),
                   "failcnt": _int(f"{mem}/memory.failcnt"),
                   "limit": _int(f"{mem}/memory.limit_in_bytes")},
        "pids": {"current": _int(f"{pids}/pids.current"),
                 "limit": int(pids_max) if pids_max.isdigit() else 0},
        "blkio": {"io_service_bytes_recursive": io or None,
                  "io_serviced_recursive": serviced or None},
    }


def _v2(d: str) -> dict:
    cpu = _kv(f"{d}/cpu.stat")
    io = []
    for line in (read(f"{d}/io.stat") or "").splitlines():
        dev, *fields = line.split()
        major, minor = (int(n) for n in dev.split(":"))
        values = dict(f.split("=", 1) for f in fields)
        for op, key in (("read", "rbytes"), ("write", "wbytes")):
            io.append({"major": major, "minor": minor, "op": op,
                       "value": int(values.get(key, 0))})
    mem_max = (read(f"{d}/memory.max") or "").strip()
    pids_max = (read(f"{d}/pids.max") or "").strip()
    return {
        # cgroup v2 counts CPU time per cgroup, not per CPU: no percpu_usage (as moby)
        "cpu_usage": {"total_usage": cpu.get("usage_usec", 0) * 1000,
                      "usage_in_kernelmode": cpu.get("system_usec", 0) * 1000,
                      "usage_in_usermode": cpu.get("user_usec", 0) * 1000},
        "throttling_data": {"periods": cpu.get("nr_periods", 0),
                            "throttled_periods": cpu.get("nr_throttled", 0),
                            "throttled_time": cpu.get("throttled_usec", 0) * 1000},
        "memory": {"usage": _int(f"{d}/memory.current"), "stats": _kv(f"{d}/memory.stat"),
                   "limit": int(mem_max) if mem_max.isdigit() else 1 << 63},
        "pids": {"current": _int(f"{d}/pids.current"),
                 "limit": int(pids_max) if pids_max.isdigit() else 0},
        "blkio": {"io_service_bytes_recursive": io or None},
    }


def metrics(pid: int) -> dict:
    """The counters of the cgroup `pid` is in: cpu_usage, throttling_data, memory,
    pids and blkio, each in dockerd's JSON names."""
    dirs = cgroup_dirs(pid)
    return _v2(dirs[""]) if "" in dirs else _v1(dirs)

