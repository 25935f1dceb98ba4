"""What a container is to be, as plain typed objects: runc's libcontainer/configs.

The OCI spec (config.json) is a document for people and tools: optional keys, nested
objects, strings where the kernel wants numbers. specconv.py reads it once, in the
caller's process before any fork, checks every field it uses and fills in the defaults,
and hands the rest of libcontainer one of these. From then on nothing looks a key up:
init, the rootfs and the cgroup code read fields, and a bad spec has already failed
with the name of its field instead of half-way through a container's set-up.

Numbers that are 0 (and strings that are "") mean "not set", as in runc's configs.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from dataclasses import dataclass, field

    from stages.stage2_libcontainer.libcontainer.hooks import Hook
else:  # the same decorator, ~15 ms cheaper to load in each runc process: see record.py
    from stages.stage2_libcontainer.libcontainer.record import dataclass, field


@dataclass
class Namespace:
    type: str  # "pid", "network", "mount", "ipc", "uts", "cgroup" or "user"
    path: str = ""  # join this namespace (setns) instead of making a new one


@dataclass
class IDMap:
    """One line of a user namespace's uid_map or gid_map: `size` ids from
    `container_id` inside are `host_id`... outside."""

    container_id: int
    host_id: int
    size: int


@dataclass
class Mount:
    destination: str  # inside the container
    type: str = ""  # "proc", "tmpfs", "bind"...; "" with a bind option: a bind mount
    source: str = ""
    options: list[str] = field(default_factory=list)  # flags and data, see rootfs.py


@dataclass
class Device:
    """A node to make in the container's /dev."""

    path: str
    type: str = "c"  # c (character), b (block), u (unbuffered character), p (FIFO)
    major: int = 0
    minor: int = 0
    file_mode: int = 0o666
    uid: int = 0
    gid: int = 0


@dataclass
class DeviceRule:
    """One line of the devices cgroup's list: which nodes may be opened at all."""

    allow: bool
    type: str = "a"  # a (all), c or b
    major: int = -1  # -1: any
    minor: int = -1
    access: str = "rwm"  # read, write, mknod


@dataclass
class Resources:
    """linux.resources: the limits written into the container's cgroup."""

    memory: int = 0  # bytes
    memory_swap: int = 0  # bytes of memory + swap, as cgroup v1's memsw counts it
    pids_limit: int = 0  # -1: no limit
    cpu_shares: int = 0
    cpu_quota: int = 0  # microseconds of CPU time in each period
    cpu_period: int = 0  # microseconds
    cpuset_cpus: str = ""  # "0-1"
    cpuset_mems: str = ""
    devices: list[DeviceRule] = field(default_factory=list)
    # --memory-reservation, --memory-swappiness (None: the kernel's), --cpu-rt-*
    memory_reservation: int = 0  # bytes: v1's soft limit, v2's memory.low
    memory_swappiness: int | None = None  # 0..100, v1 only
    cpu_rt_period: int = 0  # microseconds
    cpu_rt_runtime: int = 0  # microseconds of real-time CPU in each rt period
    block_io: BlockIO = field(default_factory=lambda: BlockIO())
    # cgroup v1's memory.oom_control: at the limit, wait for memory rather than have
    # the kernel kill a process (v2 has no such switch)
    disable_oom_killer: bool = False
    kernel_tcp: int = 0  # bytes of TCP buffers (v1's memory.kmem.tcp)
    cpu_burst: int = 0  # microseconds a group may save up and spend above its quota
    cpu_idle: int = 0  # 1: the group runs only when nothing else wants the CPU
    hugepage_limits: dict[str, int] = field(default_factory=dict)  # "2MB" -> bytes
    net_class_id: int = 0  # net_cls: the tag on the group's packets, for tc
    net_priorities: dict[str, int] = field(default_factory=dict)  # net_prio: ifname -> prio
    unified: dict[str, str] = field(default_factory=dict)  # cgroup v2 file -> its content


@dataclass
class BlockDeviceLimit:
    """One disk's I/O limit: a weight, or a rate (bytes or operations per second)."""

    major: int
    minor: int
    value: int


@dataclass
class BlockIO:
    """linux.resources.blockIO: --blkio-weight[-device], --device-{read,write}-{bps,iops}."""

    weight: int = 0  # 10..1000
    weight_device: list[BlockDeviceLimit] = field(default_factory=list)
    read_bps: list[BlockDeviceLimit] = field(default_factory=list)
    write_bps: list[BlockDeviceLimit] = field(default_factory=list)
    read_iops: list[BlockDeviceLimit] = field(default_factory=list)
    write_iops: list[BlockDeviceLimit] = field(default_factory=list)


@dataclass
class Capabilities:
    """The five sets, as capability names ("CAP_KILL")."""

    bounding: list[str] = field(default_factory=list)
    effective: list[str] = field(default_factory=list)
    inheritable: list[str] = field(default_factory=list)
    permitted: list[str] = field(default_factory=list)
    ambient: list[str] = field(default_factory=list)


@dataclass
class Rlimit:
    type: str  # "RLIMIT_NOFILE"
    soft: int
    hard: int


@dataclass
class User:
    uid: int = 0
    gid: int = 0
    additional_gids: list[int] = field(default_factory=list)


@dataclass
class Scheduler:
    """process.scheduler: sched_setattr(2)'s struct, numbers already the kernel's."""

    policy: int  # SCHED_OTHER 0, FIFO 1, RR 2, BATCH 3, ISO 4, IDLE 5, DEADLINE 6
    flags: int = 0
    nice: int = 0
    priority: int = 0  # the static priority of FIFO and RR
    runtime: int = 0  # nanoseconds, for DEADLINE
    deadline: int = 0
    period: int = 0


@dataclass
class IOPriority:
    """process.ioPriority: ioprio_set(2)'s class (RT 1, BE 2, IDLE 3) and level 0..7."""

    io_class: int
    priority: int


@dataclass
class Process:
    """The program to run and who it runs as: init's, or one for exec."""

    args: list[str]
    env: list[str] = field(default_factory=list)  # "KEY=value"
    cwd: str = "/"
    user: User = field(default_factory=User)
    terminal: bool = False
    console_size: tuple[int, int] | None = None  # (height, width)
    capabilities: Capabilities | None = None  # None: leave them as they are
    rlimits: list[Rlimit] = field(default_factory=list)
    no_new_privileges: bool = False
    oom_score_adj: int | None = None
    apparmor_profile: str = ""  # "": none asked for
    scheduler: Scheduler | None = None
    io_priority: IOPriority | None = None


@dataclass
class SeccompArg:
    """A condition on one argument: `args[index] op value` (with MASKED_EQ,
    `args[index] & value == value_two`)."""

    index: int
    value: int
    op: str  # "SCMP_CMP_EQ"...
    value_two: int = 0


@dataclass
class SeccompRule:
    """What happens when any of `names` is called (and every arg condition holds)."""

    names: list[str]
    action: str  # "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"...
    errno_ret: int | None = None  # for ERRNO and TRACE; None: EPERM
    args: list[SeccompArg] = field(default_factory=list)


@dataclass
class Seccomp:
    """linux.seccomp: the system-call filter init loads last (seccomp.py)."""

    default_action: str
    default_errno_ret: int | None = None
    architectures: list[str] = field(default_factory=list)  # "SCMP_ARCH_X86"...
    flags: list[str] = field(default_factory=list)  # "SECCOMP_FILTER_FLAG_LOG"...
    syscalls: list[SeccompRule] = field(default_factory=list)


@dataclass
class Config:
    """One container: its root filesystem, namespaces, mounts, cgroup and init."""

    rootfs: str  # absolute
    process: Process
    readonly_rootfs: bool = False
    hostname: str = ""
    domainname: str = ""
    namespaces: list[Namespace] = field(default_factory=list)
    uid_mappings: list[IDMap] = field(default_factory=list)  # for a new user namespace
    gid_mappings: list[IDMap] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)  # beyond the default ones
    cgroups_path: str = ""  # "": /whalebones/<id>
    resources: Resources = field(default_factory=Resources)
    rootfs_propagation: str = "rprivate"
    sysctl: dict[str, str] = field(default_factory=dict)
    masked_paths: list[str] = field(default_factory=list)
    readonly_paths: list[str] = field(default_factory=list)
    seccomp: Seccomp | None = None  # None: no filter
    personality: int | None = None  # personality(2)'s domain: PER_LINUX 0, PER_LINUX32 8
    time_offsets: dict[str, tuple[int, int]] = field(default_factory=dict)  # clock: (s, ns)
    oci_version: str = "1.0.2"
    annotations: dict[str, str] = field(default_factory=dict)
    hooks: dict[str, list[Hook]] = field(default_factory=dict)  # by kind, see hooks.py

    def has_mount_namespace(self) -> bool:
        """A mount namespace of the container's own: new, or joined by path."""
        return any(ns.type == "mount" for ns in self.namespaces)

    def new_namespaces(self) -> set[str]:
        """The types of the namespaces made for this container (not joined)."""
        return {ns.type for ns in self.namespaces if not ns.path}

    def has_namespace(self, kind: str) -> bool:
        """The container has a namespace of this type of its own, new or joined."""
        return any(ns.type == kind for ns in self.namespaces)
