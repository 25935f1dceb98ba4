"""cgroup v2: one tree for every controller.

Differences from v1 that matter here: a controller works in a cgroup only if its
parent lists it in `cgroup.subtree_control` (so each level is enabled top-down);
limits have new names (memory.max, pids.max, cpu.max "quota period", cpu.weight);
OOM kills are counted in memory.events; freezing and killing a whole group are
single writes (cgroup.freeze, cgroup.kill). There are no device files: device access
control is an eBPF program attached to the cgroup (devicefilter.py writes it, bpf.py
loads and attaches it).
"""

from __future__ import annotations

import errno
import os
import time

from stages.stage2_libcontainer.libcontainer.cgroups import read_ints, remove, write
from stages.stage2_libcontainer.libcontainer.errors import ContainerError, os_error

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:  # (`runc delete` loads this module, and not configs' dataclasses)
    from stages.stage2_libcontainer.libcontainer.configs import DeviceRule, Resources

CONTROLLERS = ("cpu", "cpuset", "memory", "pids", "io")


def shares_to_weight(shares: int) -> int:
    """cpu.shares (2..262144, default 1024) -> cpu.weight (1..10000, default 100),
    the conversion runc and the kernel documentation use."""
    return 1 + ((shares - 2) * 9999) // 262142


class V2Manager:
    version = 2

    def __init__(self, path: str, root: str = "/sys/fs/cgroup") -> None:
        self.root = root
        self.path = "/" + path.strip("/")
        self.dir = root + self.path

    def hierarchies(self) -> list[tuple[str, str]]:
        return [(self.root, self.dir)]

    def _enable_controllers(self) -> None:
        available = set()
        with open(os.path.join(self.root, "cgroup.controllers")) as f:
            available = set(f.read().split())
        wanted = " ".join(f"+{c}" for c in CONTROLLERS if c in available)
        current = self.root
        for part in self.path.strip("/").split("/"):
            if wanted:
                write(os.path.join(current, "cgroup.subtree_control"), wanted)
            current = os.path.join(current, part)
            os.makedirs(current, exist_ok=True)

    def create(self, resources: Resources) -> None:
        if resources.disable_oom_killer:
            # v2 has no memory.oom_control; runc drops the setting with a warning,
            # this library says so instead of running a container without it.
            raise ContainerError("linux.resources.memory.disableOOMKiller: cgroup v2 has no "
                              "way to disable the OOM killer")
        self._enable_controllers()
        if resources.memory:
            write(self._file("memory.max"), str(resources.memory))
            if resources.memory_swap and os.path.exists(self._file("memory.swap.max")):
                # v1's memsw counts memory + swap; v2's swap.max counts swap alone.
                swap = max(0, resources.memory_swap - resources.memory)
                write(self._file("memory.swap.max"),
                      "max" if resources.memory_swap < 0 else str(swap))
        if resources.pids_limit:
            self.set_pids_limit(resources.pids_limit)
        self._more_limits(resources)
        self._newer_limits(resources)
        if resources.cpu_quota or resources.cpu_period:
            quota = resources.cpu_quota if resources.cpu_quota > 0 else "max"
            write(self._file("cpu.max"), f"{quota} {resources.cpu_period or 100000}")
        if resources.cpu_shares:
            write(self._file("cpu.weight"), str(shares_to_weight(resources.cpu_shares)))
        if resources.cpuset_cpus:
            write(self._file("cpuset.cpus"), resources.cpuset_cpus)
        if resources.cpuset_mems:
            write(self._file("cpuset.mems"), resources.cpuset_mems)
        if resources.devices:
            self._devices(resources.devices)

    def _devices(self, rules: list[DeviceRule]) -> None:
        """The device allow-list, as a program the kernel runs at each open() or
        mknod() of a device node in this cgroup. It lives as long as it is attached:
        removing the cgroup frees it, so nothing is left to clean up."""
        from stages.stage2_libcontainer.libcontainer.cgroups import bpf, devicefilter

        bpf.attach_device_filter(self.dir, devicefilter.build(rules))

    def set_pids_limit(self, limit: int) -> None:
        """pids.max: fork fails inside past it (-1: no limit)."""
        write(self._file("pids.max"), "max" if limit < 0 else str(limit))

    def _file(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def join(self, pid: int) -> None:
        write(self._file("cgroup.procs"), str(pid))

    def join_files(self) -> list[str]:
        """Where a process moves itself in, writing "0" (see init._join_cgroup). v2
        has no `tasks` file: cgroup.procs, and the global lock v1's `tasks` avoids."""
        return [self._file("cgroup.procs")]

    def processes(self) -> list[int]:
        return read_ints(self._file("cgroup.procs"))

    def _events(self, name: str) -> dict[str, int]:
        try:
            with open(self._file(name)) as f:
                return {k: int(v) for k, v in (line.split() for line in f if line.strip())}
        except FileNotFoundError:
            return {}

    def oom_killed(self) -> bool:
        return self._events("memory.events").get("oom_kill", 0) > 0

    def freeze(self) -> None:
        write(self._file("cgroup.freeze"), "1")
        for _ in range(1000):
            if self._events("cgroup.events").get("frozen") == 1:
                return
            time.sleep(0.001)

    def thaw(self) -> None:
        write(self._file("cgroup.freeze"), "0")

    def destroy(self) -> None:
        if not os.path.isdir(self.dir):
            return
        kill = self._file("cgroup.kill")
        deadline = time.monotonic() + 5
        while self.processes() and time.monotonic() < deadline:
            if os.path.exists(kill):
                write(kill, "1")  # SIGKILL to every process in the group, atomically
            else:
                for pid in self.processes():
                    try:
                        os.kill(pid, 9)
                    except ProcessLookupError:
                        pass
            time.sleep(0.01)
        remove(self.dir)

    def _newer_limits(self, resources: Resources) -> None:
        """CPU burst and idle, huge pages, and `unified`: cgroup v2 files by name, as
        the spec asks ("Configuration unknown to the runtime MUST still be written"),
        each after its controller is enabled. v1-only settings fail by name."""
        if resources.kernel_tcp:
            raise os_error("memory.kmem.tcp: cgroup v2 has no TCP buffer limit", errno.EINVAL)
        if resources.net_class_id or resources.net_priorities:
            raise os_error("net_cls, net_prio: cgroup v2 has no network controllers "
                           "(linux.resources.network)", errno.EINVAL)
        if resources.cpu_burst:
            write(self._file("cpu.max.burst"), str(resources.cpu_burst))
        if resources.cpu_idle:
            write(self._file("cpu.idle"), str(resources.cpu_idle))
        for size, limit in resources.hugepage_limits.items():
            self._enable("hugetlb")
            write(self._file(f"hugetlb.{size}.max"), str(limit))
        for name, value in resources.unified.items():
            if "/" in name or name.startswith("."):
                raise os_error(f"unified: {name!r} is not a cgroup file name", errno.EINVAL)
            controller = name.split(".")[0]
            if controller != "cgroup":
                self._enable(controller)
            write(self._file(name), value)

    def _enable(self, controller: str) -> None:
        """Enable one more controller, top-down, down to the container's cgroup; the
        spec: an error "when the configuration refers to a cgroup controller that is
        not present or that cannot be enabled"."""
        with open(os.path.join(self.root, "cgroup.controllers")) as f:
            if controller not in f.read().split():
                raise os_error(f"cgroup v2 controller {controller}: not available",
                               errno.ENOENT)
        current = self.root
        for part in self.path.strip("/").split("/"):
            write(os.path.join(current, "cgroup.subtree_control"), f"+{controller}")
            current = os.path.join(current, part)

    def _more_limits(self, resources: Resources) -> None:
        """--memory-reservation and the I/O limits, in v2's words; what v2 has no file
        for (swappiness, real-time CPU) fails loudly. (The daemon refuses those at
        create: shared/oci/resources.py.)"""
        if resources.memory_reservation:
            # memory.low: below it, the group's memory is reclaimed only if nothing
            # else can be: v1's soft limit, reworded.
            write(self._file("memory.low"), str(resources.memory_reservation))
        if resources.memory_swappiness is not None:
            raise os_error("memory.swappiness: cgroup v2 has no per-cgroup swappiness",
                           errno.EINVAL)
        if resources.cpu_rt_period or resources.cpu_rt_runtime:
            raise os_error("cpu.rt_runtime_us: cgroup v2 has no real-time CPU limits",
                           errno.EINVAL)
        io = resources.block_io
        if io.weight:
            write(self._file("io.weight"), f"default {blkio_to_io_weight(io.weight)}")
        for d in io.weight_device:
            write(self._file("io.weight"), f"{d.major}:{d.minor} {blkio_to_io_weight(d.value)}")
        # io.max takes "major:minor key=value..."; keys not written keep their value.
        for key, limits in (("rbps", io.read_bps), ("wbps", io.write_bps),
                            ("riops", io.read_iops), ("wiops", io.write_iops)):
            for d in limits:
                write(self._file("io.max"), f"{d.major}:{d.minor} {key}={d.value}")


def blkio_to_io_weight(weight: int) -> int:
    """blkio.weight (10..1000, default 500) -> io.weight (1..10000, default 100), as
    runc converts it."""
    return 1 + (weight - 10) * 9999 // 990
