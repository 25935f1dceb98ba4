"""What containerd reads in a container's cgroup: whether the OOM killer fired in it.

The runtime makes the cgroup (at the spec's `linux.cgroupsPath`); containerd only
reads it, with a package of its own (github.com/containerd/cgroups), not runc's: any
OCI runtime may have made it, ours or Debian's runc, and containerd needs none of
their code to read a counter the kernel keeps:

    v2  <root>/<path>/memory.events          oom_kill N
    v1  <memory mount>/<path>/memory.oom_control   oom_kill N

A host with v1 controllers and an empty v2 tree beside them ("hybrid") is read as v1,
as runc makes it there.
"""

from __future__ import annotations

import os

UNIFIED_ROOT = "/sys/fs/cgroup"


def is_unified(root: str = UNIFIED_ROOT) -> bool:
    """Pure cgroup v2: the root itself is a cgroup2 tree with controllers listed."""
    return os.path.exists(os.path.join(root, "cgroup.controllers"))


def v1_mount(controller: str, mountinfo: str = "/proc/self/mountinfo") -> str | None:
    """Where the v1 hierarchy of a controller is mounted, or None."""
    with open(mountinfo) as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, extra = left.split(), right.split()
            # after " - ": the filesystem type, its source, then its options
            if len(extra) >= 3 and extra[0] == "cgroup" and controller in extra[2].split(","):
                return fields[4]
    return None


def _keyed(path: str) -> dict[str, int]:
    """A flat-keyed cgroup file (`key value` lines); empty if it is not there."""
    try:
        with open(path) as f:
            return {k: int(v) for k, v in (line.split() for line in f if line.strip())}
    except FileNotFoundError:
        return {}


def oom_killed(cgroups_path: str, root: str = UNIFIED_ROOT,
               mountinfo: str = "/proc/self/mountinfo") -> bool:
    """Whether the kernel's OOM killer has killed a process of the cgroup."""
    path = "/" + cgroups_path.strip("/")
    if is_unified(root):
        return _keyed(root + path + "/memory.events").get("oom_kill", 0) > 0
    memory = v1_mount("memory", mountinfo)
    if memory is None:
        return False
    return _keyed(memory + path + "/memory.oom_control").get("oom_kill", 0) > 0
