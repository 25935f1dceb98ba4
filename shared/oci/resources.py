"""HostConfig's resource limits -> the spec's linux.resources, checked as Docker does.

Every limit a user can ask for (`-m`, `--memory-reservation`, `--blkio-weight`,
`--device-read-bps`, `--cpu-rt-runtime`...) ends up as a number in a cgroup file. Each
is either applied (written into linux.resources, which every stage turns into cgroup
writes) or refused here, at create, with a 400 that names the option: never accepted
and then quietly dropped. Where moby's daemon only warns and discards a limit this
kernel cannot enforce (daemon/daemon_unix.go verifyPlatformContainerResources), we
refuse instead, with moby's wording of what is missing.

What the kernel can enforce depends on the host: which cgroup version it runs
(`CgroupHost`), and on v1 which files its controllers have. `blkio.weight` exists only
with an I/O scheduler that shares bandwidth by weight (CFQ, gone since Linux 5.0, or
BFQ); `cpu.rt_runtime_us` only with CONFIG_RT_GROUP_SCHED; memory.memsw.* only with
swap accounting. The checks look for those very files.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

MIN_MEMORY = 6 * 1024 * 1024  # moby's linuxMinMemory
CPU_PERIOD_US = 100_000  # the period Docker uses to turn --cpus into a CFS quota
DEFAULT_CGROUP_PARENT = "/whalebones"  # runtime_spec.build's: where containers' cgroups go


class ResourceError(ValueError):
    """A limit that cannot be applied as asked (HTTP 400)."""


@dataclass(frozen=True)
class CgroupHost:
    """What this host's cgroups can do, read from their files (`probe`)."""

    version: int  # 1 (v1 or hybrid, driven as v1) or 2 (pure v2)
    root: str = "/sys/fs/cgroup"

    def v1_has(self, controller: str, name: str) -> bool:
        return os.path.exists(os.path.join(self.root, controller, name))

    def v2_controllers(self) -> set[str]:
        try:
            with open(os.path.join(self.root, "cgroup.controllers")) as f:
                return set(f.read().split())
        except FileNotFoundError:
            return set()

    def swap_limit(self) -> bool:
        if self.version == 1:
            return self.v1_has("memory", "memory.memsw.limit_in_bytes")
        return "memory" in self.v2_controllers()

    def swappiness(self) -> bool:
        # v2 dropped per-cgroup swappiness: there is only the global vm.swappiness.
        return self.version == 1 and self.v1_has("memory", "memory.swappiness")

    def memory_reservation(self) -> bool:
        if self.version == 1:
            return self.v1_has("memory", "memory.soft_limit_in_bytes")
        return "memory" in self.v2_controllers()  # memory.low

    def blkio_weight(self) -> bool:
        if self.version == 1:
            return self.v1_has("blkio", "blkio.weight")
        # io.weight is the io.cost controller's (CONFIG_BLK_CGROUP_IOCOST), whose
        # root-only io.cost.qos file says it is built in.
        return ("io" in self.v2_controllers()
                and os.path.exists(os.path.join(self.root, "io.cost.qos")))

    def blkio_throttle(self) -> bool:
        if self.version == 1:
            return self.v1_has("blkio", "blkio.throttle.read_bps_device")
        return "io" in self.v2_controllers()  # io.max (blk-throttle)

    def cpu_realtime(self) -> bool:
        # Real-time group scheduling has no v2 interface at all.
        return self.version == 1 and self.v1_has("cpu", "cpu.rt_runtime_us")

    def rt_runtime(self, cgroup: str) -> int:
        """The real-time CPU time (µs per period) cgroup `cgroup` may hand its children;
        0 for a cgroup not made yet, since that is what a new one gets."""
        try:
            with open(os.path.join(self.root, "cpu", cgroup.strip("/"), "cpu.rt_runtime_us")) as f:
                return int(f.read())
        except (FileNotFoundError, ValueError):
            return 0


def probe(root: str = "/sys/fs/cgroup") -> CgroupHost:
    """This host's cgroups: pure v2 if the root is a cgroup2 tree with controllers."""
    unified = os.path.exists(os.path.join(root, "cgroup.controllers"))
    return CgroupHost(2 if unified else 1, root)


def default_memory_swap(host_config: dict, host: CgroupHost | None = None) -> None:
    """At create, as moby's adaptContainerSettings: a memory limit with no swap limit
    given gets swap of the same size again (MemorySwap, memory + swap, = 2 x Memory).
    Without it a container at its limit could swap without bound, which is not a limit.
    Kept in the record (`docker inspect` shows it) and written at every start: v1's
    memory.memsw.limit_in_bytes (memory + swap), v2's memory.swap.max (swap alone).
    A kernel without swap accounting cannot limit swap: moby's verifyPlatformContainer-
    Resources then sets -1 (unlimited; it warns), so the default never applies."""
    memory = int(host_config.get("Memory") or 0)
    if memory > 0 and int(host_config.get("MemorySwap") or 0) == 0:
        host_config["MemorySwap"] = 2 * memory if (host or probe()).swap_limit() else -1


def _unsupported(option: str, what: str) -> ResourceError:
    return ResourceError(
        f"{option}: your kernel does not support {what} or the cgroup is not mounted")


def to_spec(host_config: dict, host: CgroupHost | None = None) -> dict:
    """HostConfig limits -> linux.resources (cgroup settings); ResourceError if refused.

    Also called at create only to validate; at each start the result goes into the
    spec (block devices are looked up again then: their numbers are the host's).
    """
    host = host or probe()
    _refuse_unsupported_fields(host_config)
    res: dict = {}
    memory = _memory(host_config, host)
    if memory:
        res["memory"] = memory
    cpu = _cpu(host_config, host)
    if cpu:
        res["cpu"] = cpu
    pids = host_config.get("PidsLimit")
    if pids:
        res["pids"] = {"limit": int(pids)}
    block_io = _block_io(host_config, host)
    if block_io:
        res["blockIO"] = block_io
    return res


def _refuse_unsupported_fields(hc: dict) -> None:
    """Fields no Linux kernel of ours applies: refused, where moby ignores or warns."""
    if hc.get("KernelMemory"):
        # cgroup v1's kmem limit: deprecated by the kernel (5.4) and removed (6.1);
        # moby ignores the field from API 1.42 on.
        raise ResourceError(
            "--kernel-memory is not supported: kernel memory limits are deprecated "
            "by the Linux kernel (and ignored by Docker since API 1.42)")
    if hc.get("KernelMemoryTCP"):
        raise ResourceError(
            "KernelMemoryTCP is not supported: kernel TCP memory limits are deprecated "
            "by the Linux kernel (and ignored by Docker)")
    # Windows-only fields: moby refuses the QoS ones (runconfig validateQoS) ...
    if hc.get("IOMaximumBandwidth"):
        raise ResourceError(
            "invalid option: QoS maximum bandwidth configuration is not supported on linux")
    if hc.get("IOMaximumIOps"):
        raise ResourceError(
            "invalid option: QoS maximum IOPs configuration is not supported on linux")
    # ... and only warns about these two; we refuse them as well.
    if hc.get("CpuCount"):
        raise ResourceError("--cpu-count is not supported: it is a Windows-only option")
    if hc.get("CpuPercent"):
        raise ResourceError("--cpu-percent is not supported: it is a Windows-only option "
                            "(linux does not support CPU percent)")


def _memory(hc: dict, host: CgroupHost) -> dict:
    memory = int(hc.get("Memory") or 0)
    swap = int(hc.get("MemorySwap") or 0)
    reservation = int(hc.get("MemoryReservation") or 0)
    swappiness = hc.get("MemorySwappiness")
    if swappiness is not None and int(swappiness) == -1:
        swappiness = None  # the CLI's "not given" (moby's fixMemorySwappiness)
    out: dict = {}
    if memory and memory < MIN_MEMORY:  # negative too, as Docker says
        raise ResourceError("Minimum memory limit allowed is 6MB")
    if memory:
        out["limit"] = memory
    if memory > 0 and swap > 0 and swap < memory:
        raise ResourceError("Minimum memoryswap limit should be larger than memory limit, "
                            "see usage")
    if memory == 0 and swap > 0:
        raise ResourceError(
            "You should always set the Memory limit when using Memoryswap limit, see usage")
    if swap > 0:
        if not host.swap_limit():
            raise _unsupported("--memory-swap", "swap limit capabilities")
        out["swap"] = swap
    elif swap == -1 and memory and host.swap_limit():
        # Unlimited swap on top of the memory limit; without swap accounting that is
        # already so, and there is no memsw file to write it to.
        out["swap"] = -1
    if swappiness is not None:
        value = int(swappiness)
        if value < 0 or value > 100:
            raise ResourceError(
                f"Invalid value: {value}, valid memory swappiness range is 0-100")
        if not host.swappiness():
            raise ResourceError(
                "--memory-swappiness: your kernel does not support memory swappiness "
                "capabilities" + (" (cgroup v2 has no per-cgroup swappiness)"
                                  if host.version == 2 else " or the cgroup is not mounted"))
        out["swappiness"] = value
    if reservation:
        if reservation < MIN_MEMORY:
            raise ResourceError("Minimum memory reservation allowed is 6MB")
        if memory > 0 and memory < reservation:
            raise ResourceError(
                "Minimum memory limit can not be less than memory reservation limit, "
                "see usage")
        if not host.memory_reservation():
            raise _unsupported("--memory-reservation", "memory soft limit capabilities")
        out["reservation"] = reservation
    return out


def _cpu(hc: dict, host: CgroupHost) -> dict:
    cpu: dict = {}
    nano = int(hc.get("NanoCpus") or 0)
    period = int(hc.get("CpuPeriod") or 0)
    quota = int(hc.get("CpuQuota") or 0)
    if nano > 0 and period > 0:
        raise ResourceError("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if nano > 0 and quota > 0:
        raise ResourceError("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    if nano:
        n = os.cpu_count() or 1  # (None if it cannot be told: never on Linux)
        if nano < 0 or nano > n * 1_000_000_000:
            raise ResourceError(
                f"Range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available")
        cpu["period"] = CPU_PERIOD_US
        cpu["quota"] = nano * CPU_PERIOD_US // 1_000_000_000
    if period and (period < 1000 or period > 1_000_000):
        raise ResourceError("CPU cfs period can not be less than 1ms (i.e. 1000) "
                            "or larger than 1s (i.e. 1000000)")
    if 0 < quota < 1000:
        raise ResourceError("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    if period:
        cpu["period"] = period
    if quota:
        cpu["quota"] = quota  # negative: no quota (v1's -1, v2's "max")
    shares = int(hc.get("CpuShares") or 0)
    if shares < 0:
        raise ResourceError(f"invalid CPU shares ({shares}): value must be a positive integer")
    if shares:
        cpu["shares"] = shares
    rt_period = int(hc.get("CpuRealtimePeriod") or 0)
    rt_runtime = int(hc.get("CpuRealtimeRuntime") or 0)
    if rt_period or rt_runtime:
        if not host.cpu_realtime():
            raise ResourceError("--cpu-rt-period/--cpu-rt-runtime: "
                                "kernel does not support CPU real-time scheduler")
        if rt_period and rt_runtime and rt_runtime > rt_period:
            raise ResourceError(
                "cpu real-time runtime cannot be higher than cpu real-time period")
        # The kernel lets a group run real-time tasks only out of its parent's own
        # real-time time, and a new cgroup has none: dockerd's --cpu-rt-runtime gives
        # its parent some; here an administrator writes the parent's cpu.rt_runtime_us.
        parent = hc.get("CgroupParent") or DEFAULT_CGROUP_PARENT
        if rt_runtime > 0 and host.rt_runtime(parent) == 0:
            raise ResourceError(
                f"--cpu-rt-runtime: the containers' parent cgroup {parent} has no real-time "
                f"CPU time to give (its cpu.rt_runtime_us is 0): write some there first")
        if rt_period:
            cpu["realtimePeriod"] = rt_period
        if rt_runtime:
            cpu["realtimeRuntime"] = rt_runtime
    return cpu


THROTTLES = (  # HostConfig field, its CLI option, the spec's list
    ("BlkioDeviceReadBps", "--device-read-bps", "throttleReadBpsDevice"),
    ("BlkioDeviceWriteBps", "--device-write-bps", "throttleWriteBpsDevice"),
    ("BlkioDeviceReadIOps", "--device-read-iops", "throttleReadIOPSDevice"),
    ("BlkioDeviceWriteIOps", "--device-write-iops", "throttleWriteIOPSDevice"),
)


def _block_io(hc: dict, host: CgroupHost) -> dict:
    out: dict = {}
    weight = int(hc.get("BlkioWeight") or 0)
    if weight:
        if weight < 10 or weight > 1000:
            raise ResourceError("Range of blkio weight is from 10 to 1000")
        if not host.blkio_weight():
            raise _unsupported("--blkio-weight", "Block I/O weight")
        out["weight"] = weight
    devices = []
    for item in hc.get("BlkioWeightDevice") or []:
        dev_weight = int(item.get("Weight") or 0)
        if dev_weight and (dev_weight < 10 or dev_weight > 1000):
            raise ResourceError("--blkio-weight-device: Range of blkio weight is from 10 to 1000")
        if not host.blkio_weight():
            raise _unsupported("--blkio-weight-device", "Block I/O weight_device")
        major, minor = block_device(item.get("Path") or "", "--blkio-weight-device")
        devices.append({"major": major, "minor": minor, "weight": dev_weight})
    if devices:
        out["weightDevice"] = devices
    for field, option, key in THROTTLES:
        limits = []
        for item in hc.get(field) or []:
            if not host.blkio_throttle():
                raise _unsupported(option, "Block I/O throttling")
            major, minor = block_device(item.get("Path") or "", option)
            limits.append({"major": major, "minor": minor, "rate": int(item.get("Rate") or 0)})
        if limits:
            out[key] = limits
    return out


def block_device(path: str, option: str) -> tuple[int, int]:
    """The (major, minor) of a whole disk on this host, which is what the kernel's I/O
    controllers key their limits by (they refuse a partition's numbers)."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise ResourceError(f"{option}: {path}: {e.strerror}") from None
    if not stat.S_ISBLK(st.st_mode):
        raise ResourceError(f"{option}: {path} is not a block device")
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    if os.path.exists(f"/sys/dev/block/{major}:{minor}/partition"):
        raise ResourceError(f"{option}: {path} is a partition; "
                            "I/O limits apply to a whole disk")
    return major, minor
