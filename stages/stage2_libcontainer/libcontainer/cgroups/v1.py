"""cgroup v1: one hierarchy per controller, each a tree of its own.

The container's cgroup is the same path (/whalebones/<id>) made in every hierarchy,
and joining means writing the pid into each tree's `cgroup.procs`.
"""

from __future__ import annotations

import errno
import os
import signal
import time

from stages.stage2_libcontainer.libcontainer.cgroups import read_ints, remove, write
from stages.stage2_libcontainer.libcontainer.errors import os_error

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:  # (`runc delete` loads this module, and not configs' dataclasses)
    from stages.stage2_libcontainer.libcontainer.configs import DeviceRule, Resources

# Controllers we set limits in or need (freezer for pause, devices for the allow-list).
WANTED = ("memory", "pids", "cpu", "cpuacct", "cpuset", "freezer", "devices", "blkio",
          "hugetlb", "net_cls", "net_prio")
# What each is needed for when the host has not mounted it (then it is not joined).
NEEDED_FOR = {"hugetlb": "linux.resources.hugepageLimits",
              "net_cls": "linux.resources.network.classID",
              "net_prio": "linux.resources.network.priorities"}


def mounted_hierarchies() -> dict[str, str]:
    """controller -> its mount point, read from /proc/self/mountinfo."""
    found: dict[str, str] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, extra = left.split(), right.split()
            if not extra or extra[0] != "cgroup":
                continue
            for option in extra[2].split(","):
                if option in WANTED:
                    found.setdefault(option, fields[4])
    return found


class V1Manager:
    version = 1

    def __init__(self, path: str) -> None:
        self.path = "/" + path.strip("/")
        self.mounts = mounted_hierarchies()

    def _dir(self, controller: str) -> str:
        return self.mounts[controller] + self.path

    def hierarchies(self) -> list[tuple[str, str]]:
        """(mount point, cgroup dir) for each distinct hierarchy."""
        seen: dict[str, str] = {}
        for controller, mnt in self.mounts.items():
            seen.setdefault(mnt, self._dir(controller))
        return list(seen.items())

    def create(self, resources: Resources) -> None:
        for _, directory in self.hierarchies():
            os.makedirs(directory, exist_ok=True)
        if "cpuset" in self.mounts:
            self._inherit_cpuset()
        if resources.memory:
            write(self._file("memory", "memory.limit_in_bytes"), str(resources.memory))
            swap = self._file("memory", "memory.memsw.limit_in_bytes")
            if resources.memory_swap and os.path.exists(swap):
                write(swap, str(resources.memory_swap))
        if resources.disable_oom_killer:
            write(self._file("memory", "memory.oom_control"), "1")
        if resources.pids_limit:
            self.set_pids_limit(resources.pids_limit)
        if resources.cpu_shares:
            write(self._file("cpu", "cpu.shares"), str(resources.cpu_shares))
        if resources.cpu_period:
            write(self._file("cpu", "cpu.cfs_period_us"), str(resources.cpu_period))
        if resources.cpu_quota:
            write(self._file("cpu", "cpu.cfs_quota_us"), str(resources.cpu_quota))
        self._more_limits(resources)
        self._newer_limits(resources)
        if resources.cpuset_cpus:
            write(self._file("cpuset", "cpuset.cpus"), resources.cpuset_cpus)
        if resources.cpuset_mems:
            write(self._file("cpuset", "cpuset.mems"), resources.cpuset_mems)
        if resources.devices and "devices" in self.mounts:
            self._devices(resources.devices)

    def set_pids_limit(self, limit: int) -> None:
        """pids.max: fork fails inside past it (-1: no limit)."""
        write(self._file("pids", "pids.max"), "max" if limit < 0 else str(limit))

    def _file(self, controller: str, name: str) -> str:
        if controller not in self.mounts:
            needed = f" (needed for {NEEDED_FOR[controller]})" if controller in NEEDED_FOR else ""
            raise os_error(f"cgroup v1 controller {controller}: not mounted on this host{needed}",
                           errno.ENOENT)
        return os.path.join(self._dir(controller), name)

    def _inherit_cpuset(self) -> None:
        """A new cpuset cgroup starts with no CPUs and no memory nodes, and a task
        cannot join it until it has some: copy them down from each parent."""
        mnt = self.mounts["cpuset"]
        current = mnt
        for part in self.path.strip("/").split("/"):
            parent, current = current, os.path.join(current, part)
            for name in ("cpuset.cpus", "cpuset.mems"):
                target = os.path.join(current, name)
                with open(target) as f:
                    if f.read().strip():
                        continue
                with open(os.path.join(parent, name)) as f:
                    write(target, f.read().strip())

    def _devices(self, rules: list[DeviceRule]) -> None:
        """The device allow-list: which device nodes the container may open at all."""
        for rule in rules:
            major = "*" if rule.major == -1 else rule.major
            minor = "*" if rule.minor == -1 else rule.minor
            line = "a" if rule.type == "a" else f"{rule.type} {major}:{minor} {rule.access}"
            name = "devices.allow" if rule.allow else "devices.deny"
            write(self._file("devices", name), line)

    def join(self, pid: int) -> None:
        for _, d in self.hierarchies():
            write(os.path.join(d, "cgroup.procs"), str(pid))

    def join_files(self) -> list[str]:
        """Where a process moves itself in, writing "0" (see init._join_cgroup).
        `tasks`, which moves one thread, not `cgroup.procs`, which moves a whole
        thread group: for that the kernel takes its global cgroup_threadgroup_rwsem
        for writing, which waits for an RCU grace period (cgroup_procs_write_start,
        kernel/cgroup/cgroup.c), 5-15 ms here, the largest cost of a `runc run`
        after Python's start-up; moving the writing thread itself skips that lock
        (0.4 ms for the 8 hierarchies). The writer is a fork child, which has one
        thread: that thread is the whole process."""
        return [os.path.join(d, "tasks") for _, d in self.hierarchies()]

    def processes(self) -> list[int]:
        controller = "pids" if "pids" in self.mounts else next(iter(self.mounts))
        return read_ints(os.path.join(self._dir(controller), "cgroup.procs"))

    def oom_killed(self) -> bool:
        path = os.path.join(self._dir("memory"), "memory.oom_control")
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value) > 0
        except FileNotFoundError:
            pass
        return False

    def freeze(self) -> None:
        state = os.path.join(self._dir("freezer"), "freezer.state")
        write(state, "FROZEN")
        for _ in range(1000):
            with open(state) as f:
                if f.read().strip() == "FROZEN":
                    return
            time.sleep(0.001)

    def thaw(self) -> None:
        write(os.path.join(self._dir("freezer"), "freezer.state"), "THAWED")

    def destroy(self) -> None:
        """Kill whatever is left and remove the cgroup from every hierarchy."""
        deadline = time.monotonic() + 5
        while (pids := self.processes()) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        for _, directory in self.hierarchies():
            remove(directory)

    def _more_limits(self, resources: Resources) -> None:
        """--memory-reservation, --memory-swappiness, --cpu-rt-*, the blkio limits.

        The daemon refused at create what this kernel lacks (shared/oci/resources.py);
        a spec that asks anyway fails here, on the missing file, rather than being
        ignored."""
        if resources.memory_reservation:
            # The soft limit: under memory pressure the kernel reclaims from groups
            # above theirs first.
            write(self._file("memory", "memory.soft_limit_in_bytes"),
                  str(resources.memory_reservation))
        if resources.memory_swappiness is not None:
            write(self._file("memory", "memory.swappiness"), str(resources.memory_swappiness))
        # Period first: the kernel checks each runtime against its period (and the
        # group's runtime against what its parent has left to hand out).
        if resources.cpu_rt_period:
            write(self._file("cpu", "cpu.rt_period_us"), str(resources.cpu_rt_period))
        if resources.cpu_rt_runtime:
            write(self._file("cpu", "cpu.rt_runtime_us"), str(resources.cpu_rt_runtime))
        io = resources.block_io
        if io.weight:
            write(self._file("blkio", "blkio.weight"), str(io.weight))
        for d in io.weight_device:
            write(self._file("blkio", "blkio.weight_device"), f"{d.major}:{d.minor} {d.value}")
        # One line per disk: "major:minor rate", the rate in bytes or I/Os per second.
        for name, limits in (("read_bps_device", io.read_bps), ("write_bps_device", io.write_bps),
                             ("read_iops_device", io.read_iops),
                             ("write_iops_device", io.write_iops)):
            for d in limits:
                write(self._file("blkio", f"blkio.throttle.{name}"),
                      f"{d.major}:{d.minor} {d.value}")

    def _newer_limits(self, resources: Resources) -> None:
        """The rest of linux.resources: TCP buffer memory, CPU burst and idle, huge
        pages, the network controllers. A controller the host has not mounted fails
        here, by name; `unified` (cgroup v2 files) cannot be honoured on v1 at all."""
        if resources.unified:
            raise os_error("invalid configuration: cannot use unified on cgroup v1",
                           errno.EINVAL)
        if resources.kernel_tcp:
            write(self._file("memory", "memory.kmem.tcp.limit_in_bytes"),
                  str(resources.kernel_tcp))
        if resources.cpu_burst:
            write(self._file("cpu", "cpu.cfs_burst_us"), str(resources.cpu_burst))
        if resources.cpu_idle:
            write(self._file("cpu", "cpu.idle"), str(resources.cpu_idle))
        for size, limit in resources.hugepage_limits.items():
            write(self._file("hugetlb", f"hugetlb.{size}.limit_in_bytes"), str(limit))
        if resources.net_class_id:
            write(self._file("net_cls", "net_cls.classid"), str(resources.net_class_id))
        for name, priority in resources.net_priorities.items():
            write(self._file("net_prio", "net_prio.ifpriomap"), f"{name} {priority}")
