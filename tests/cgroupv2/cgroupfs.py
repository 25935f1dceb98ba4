"""Where a cgroup's files are, on either cgroup version: what the checks read.

The checks read the kernel's own files, independently of the code under test (which
has its own v1/v2 managers): a limit counts as applied when the kernel's file says so,
and as enforced when the kernel's counters (memory.events, pids.events, cpu.stat) moved.

    v2 (unified)  /sys/fs/cgroup/<path>/<file>            one tree, every controller
    v1            /sys/fs/cgroup/<controller>/<path>/<file>, one tree per controller,
                  found in /proc/self/mountinfo (a tree may hold several: cpu,cpuacct)
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def version() -> int:
    """2 when the host is pure cgroup v2: /sys/fs/cgroup is itself a cgroup2 tree that
    lists its controllers. A hybrid host (v1 controllers, an empty cgroup2 tree at
    /sys/fs/cgroup/unified) counts as v1, as for runc and for libcontainer here."""
    return 2 if (ROOT / "cgroup.controllers").exists() else 1


def describe() -> str:
    if version() == 2:
        controllers = (ROOT / "cgroup.controllers").read_text().split()
        return f"cgroup v2 (pure unified hierarchy; controllers: {' '.join(controllers)})"
    return "cgroup v1 (a hierarchy per controller; hybrid or legacy host)"


def v1_mounts() -> dict[str, Path]:
    """controller -> mount point of its v1 hierarchy."""
    found: dict[str, Path] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, extra = left.split(), right.split()
            if len(extra) >= 3 and extra[0] == "cgroup":
                for option in extra[2].split(","):
                    found.setdefault(option, Path(fields[4]))
    return found


def directory(path: str, controller: str = "pids") -> Path:
    """The directory of cgroup `path` (e.g. /whalebones/abc) holding `controller`'s files."""
    if version() == 2:
        return ROOT / path.strip("/")
    return v1_mounts()[controller] / path.strip("/")


def file(path: str, controller: str, v1: str, v2: str) -> Path:
    """A control file by its name on each version (memory.limit_in_bytes vs memory.max)."""
    return directory(path, controller) / (v2 if version() == 2 else v1)


def read(path: Path) -> str:
    return path.read_text().strip()


def keyed(path: Path) -> dict[str, int]:
    """A flat-keyed file ("oom_kill 1\\nmax 3"): memory.events, cpu.stat, pids.events..."""
    values: dict[str, int] = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            values[key] = int(value)
    return values


def of_process(pid: int) -> str:
    """The cgroup path of a process (the pids controller's on v1), from /proc/PID/cgroup."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _, controllers, path in lines:
        if (version() == 2 and controllers == "") or "pids" in controllers.split(","):
            return path
    raise LookupError(f"no cgroup for pid {pid} in /proc/{pid}/cgroup")


def all_dirs(path: str) -> list[Path]:
    """Every directory of cgroup `path`: one on v2, one per mounted hierarchy on v1."""
    if version() == 2:
        return [ROOT / path.strip("/")]
    return [mnt / path.strip("/") for mnt in sorted(set(v1_mounts().values()))]


def exists(path: str) -> list[Path]:
    """Those of all_dirs(path) that still exist (an empty list: the cgroup is gone)."""
    return [d for d in all_dirs(path) if os.path.isdir(d)]
