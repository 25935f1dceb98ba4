"""From an OCI spec (config.json, as a dict) to a Config: runc's libcontainer/specconv.

It runs once, in the caller's process, before anything is forked or made: a spec
with a wrong field fails here, as an InvalidSpec that names the field

    specconv: linux.namespaces[2].type: unknown namespace type "foo"

rather than from inside a half-made container, over the sync socket. Keys this
library does not use are ignored, as runc ignores what it does not implement.
"""

from __future__ import annotations

import json
import os

from stages.stage2_libcontainer.libcontainer import (
    capabilities,
    configs,
    devices,
    hooks,
    lsm,
    namespaces,
    process,
    rootfs,
    sched,
    seccomp,
)
from stages.stage2_libcontainer.libcontainer.errors import ContainerError

DEVICE_TYPES = ("c", "b", "u", "p")


class InvalidSpec(ContainerError):
    """A field of the spec that cannot be used; the message names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"specconv: {field}: {problem}")
        self.field = field


# ------------------------------------------------------------ reading one field
# Each reader takes the object, the key and where the object is in the spec, so that
# an error can say `process.user.uid` and not just `uid`.


def _where(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _shown(value: object) -> str:
    return json.dumps(value)  # as it is written in config.json


def _object(value: object, field: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidSpec(field, f"must be an object, not {_shown(value)}")
    return value


def _list(value: object, field: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidSpec(field, f"must be a list, not {_shown(value)}")
    return value


def _str(obj: dict, key: str, parent: str, default: str = "") -> str:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidSpec(_where(parent, key), f"must be a string, not {_shown(value)}")
    return value


def _int(obj: dict, key: str, parent: str, default: int = 0) -> int:
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSpec(_where(parent, key), f"must be an integer, not {_shown(value)}")
    return value


def _required_int(obj: dict, key: str, parent: str) -> int:
    if obj.get(key) is None:
        raise InvalidSpec(_where(parent, key), "is missing")
    return _int(obj, key, parent)


def _bool(obj: dict, key: str, parent: str) -> bool:
    value = obj.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidSpec(_where(parent, key), f"must be true or false, not {_shown(value)}")
    return value


def _strings(value: object, field: str) -> list[str]:
    items = _list(value, field)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidSpec(f"{field}[{i}]", f"must be a string, not {_shown(item)}")
    return list(items)


def _ints(value: object, field: str) -> list[int]:
    items = _list(value, field)
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, int):
            raise InvalidSpec(f"{field}[{i}]", f"must be an integer, not {_shown(item)}")
    return list(items)


def _string_map(value: object, field: str) -> dict[str, str]:
    obj = _object(value, field)
    for key, item in obj.items():
        if not isinstance(item, str):
            raise InvalidSpec(f"{field}.{key}", f"must be a string, not {_shown(item)}")
    return dict(obj)


# ------------------------------------------------------------ the spec's parts


def to_config(spec: dict) -> configs.Config:
    """The whole spec: root, process, hostname, mounts, linux.*, annotations."""
    if not isinstance(spec, dict):
        raise InvalidSpec("spec", f"must be an object, not {_shown(spec)}")
    root = _object(spec.get("root"), "root")
    path = _str(root, "path", "root")
    if not os.path.isabs(path):
        raise InvalidSpec("root.path", f"must be an absolute path, not {_shown(path)}")
    if spec.get("process") is None:
        raise InvalidSpec("process", "is missing")
    linux = _object(spec.get("linux"), "linux")
    propagation = _str(linux, "rootfsPropagation", "linux", "rprivate")
    node_list = [to_device(d, f"linux.devices[{i}]")
                 for i, d in enumerate(_list(linux.get("devices"), "linux.devices"))]
    resources = to_resources(linux.get("resources"), "linux.resources")
    resources.devices = devices.allowed_rules(resources.devices, node_list)
    if propagation not in rootfs.PROPAGATION:
        raise InvalidSpec("linux.rootfsPropagation",
                          f"unknown propagation {_shown(propagation)}")
    refuse_unsupported_linux(linux)
    spaces = to_namespaces(linux.get("namespaces"), "linux.namespaces")
    uid_maps = to_id_maps(linux.get("uidMappings"), "linux.uidMappings")
    gid_maps = to_id_maps(linux.get("gidMappings"), "linux.gidMappings")
    check_user_namespace(spaces, uid_maps, gid_maps)
    config = configs.Config(
        rootfs=path,
        readonly_rootfs=_bool(root, "readonly", "root"),
        process=to_process(spec["process"], "process"),
        hostname=_str(spec, "hostname", ""),
        domainname=_str(spec, "domainname", ""),
        namespaces=spaces,
        uid_mappings=uid_maps,
        gid_mappings=gid_maps,
        mounts=[to_mount(m, f"mounts[{i}]")
                for i, m in enumerate(_list(spec.get("mounts"), "mounts"))],
        devices=node_list,
        cgroups_path=_str(linux, "cgroupsPath", "linux"),
        resources=resources,
        rootfs_propagation=propagation,
        sysctl=to_sysctl(linux.get("sysctl"), "linux.sysctl", spaces),
        masked_paths=_strings(linux.get("maskedPaths"), "linux.maskedPaths"),
        readonly_paths=_strings(linux.get("readonlyPaths"), "linux.readonlyPaths"),
        seccomp=(None if linux.get("seccomp") is None
                 else to_seccomp(linux["seccomp"], "linux.seccomp")),
        personality=to_personality(linux.get("personality"), "linux.personality"),
        time_offsets=to_time_offsets(linux.get("timeOffsets"), "linux.timeOffsets", spaces),
        oci_version=_str(spec, "ociVersion", "", "1.0.2"),
        annotations=_string_map(spec.get("annotations"), "annotations"),
        hooks=to_hooks(spec),
    )
    if not config.has_mount_namespace():
        check_without_mount_namespace(config)
    return config


def to_hooks(spec: dict) -> dict[str, list[hooks.Hook]]:
    try:
        return hooks.from_spec(spec)
    except ValueError as e:
        raise InvalidSpec(*e.args) from None


def check_without_mount_namespace(config: configs.Config) -> None:
    """What only a mount namespace of the container's own can do. Without one, a
    read-only root or path would be a remount of the host's mount that holds it."""
    if config.masked_paths or config.readonly_paths:  # runc's words
        raise InvalidSpec("linux.namespaces",
                          "unable to restrict sys entries without a private MNT namespace")
    if config.readonly_rootfs:
        raise InvalidSpec("root.readonly", "a read-only root needs a mount namespace")


def refuse_unsupported_linux(linux: dict) -> None:
    """linux.* fields this host cannot honour, refused by name (the spec: "Runtimes
    MUST generate an error when invalid or unsupported values are encountered")."""
    if linux.get("mountLabel") and not lsm.selinux_enabled():
        raise InvalidSpec("linux.mountLabel", "selinux label is specified in config, but "
                          "selinux is disabled or not supported")
    if linux.get("intelRdt") is not None:
        # The spec: with no resctrl filesystem mounted, the runtime MUST error.
        raise InvalidSpec("linux.intelRdt", "Intel RDT resctrl mount point not found"
                          if not _resctrl_mounted() else "Intel RDT is not supported")
    if linux.get("memoryPolicy") is not None:
        raise InvalidSpec("linux.memoryPolicy", "NUMA memory policies are not supported")
    if linux.get("netDevices"):
        raise InvalidSpec("linux.netDevices", "moving network devices is not supported")


def _resctrl_mounted() -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(" - resctrl " in line for line in f)


def to_personality(value: object, field: str) -> int | None:
    """linux.personality: the domain (LINUX, LINUX32); the spec supports no flags."""
    if value is None:
        return None
    p = _object(value, field)
    domain = _str(p, "domain", field)
    if domain not in sched.PERSONALITIES:
        raise InvalidSpec(f"{field}.domain", f"invalid personality domain {_shown(domain)}")
    if _strings(p.get("flags"), f"{field}.flags"):
        raise InvalidSpec(f"{field}.flags", "no personality flag is supported")
    return sched.PERSONALITIES[domain]


def to_time_offsets(value: object, field: str,
                    spaces: list[configs.Namespace]) -> dict[str, tuple[int, int]]:
    """linux.timeOffsets: clock -> (secs, nanosecs), for a time namespace we make."""
    offsets: dict[str, tuple[int, int]] = {}
    for clock, item in _object(value, field).items():
        where = f"{field}.{clock}"
        if clock not in ("monotonic", "boottime"):
            raise InvalidSpec(where, "only the monotonic and boottime clocks have offsets")
        o = _object(item, where)
        nanos = _int(o, "nanosecs", where)
        if not 0 <= nanos < 1_000_000_000:
            raise InvalidSpec(f"{where}.nanosecs", f"must be 0 to 999999999, not {nanos}")
        offsets[clock] = (_int(o, "secs", where), nanos)
    if offsets and not any(ns.type == "time" and not ns.path for ns in spaces):
        raise InvalidSpec(field, "time namespace offsets specified, but time namespace "
                          "isn't enabled in the config")
    return offsets


# System V IPC's knobs: they belong to the ipc namespace (and fs.mqueue.*, too).
IPC_SYSCTLS = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
               "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}


def to_sysctl(value: object, field: str, spaces: list[configs.Namespace]) -> dict[str, str]:
    """linux.sysctl, with runc's rule: only a knob of a namespace the container has
    of its own. Written from inside, a knob of a namespace it shares with the host
    (net.* without a network namespace) would change the host's."""
    sysctl = _string_map(value, field)
    own = {ns.type for ns in spaces}
    for key in sysctl:
        where = f"{field}.{key}"
        if key in IPC_SYSCTLS or key.startswith("fs.mqueue."):
            if "ipc" not in own:
                raise InvalidSpec(where, f"sysctl {_shown(key)} is not allowed in the hosts "
                                  "ipc namespace")
        elif key.startswith("net."):
            if "network" not in own:
                raise InvalidSpec(where, f"sysctl {_shown(key)} not allowed in host network "
                                  "namespace")
        elif key == "kernel.domainname" and "uts" in own:
            pass
        elif key == "kernel.hostname" and "uts" in own:
            raise InvalidSpec(where, f"sysctl {_shown(key)} is not allowed as it conflicts "
                              'with the OCI "hostname" field')
        else:
            raise InvalidSpec(where, f"sysctl {_shown(key)} is not in a separate kernel "
                              "namespace")
    return sysctl


def to_namespaces(value: object, field: str) -> list[configs.Namespace]:
    result: list[configs.Namespace] = []
    for i, item in enumerate(_list(value, field)):
        where = f"{field}[{i}]"
        ns = _object(item, where)
        kind = _str(ns, "type", where)
        if kind not in namespaces.FLAGS:
            raise InvalidSpec(f"{where}.type", f"unknown namespace type {_shown(kind)}")
        if any(n.type == kind for n in result):
            raise InvalidSpec(f"{where}.type", f"duplicated namespace {_shown(kind)}")
        result.append(configs.Namespace(kind, _str(ns, "path", where)))
    return result


def to_id_maps(value: object, field: str) -> list[configs.IDMap]:
    """linux.uidMappings or gidMappings: each a run of ids, all three numbers required
    (uint32: the kernel's ids are 32-bit)."""
    result = []
    for i, item in enumerate(_list(value, field)):
        where = f"{field}[{i}]"
        m = _object(item, where)
        numbers = []
        for key in ("containerID", "hostID", "size"):
            number = _required_int(m, key, where)
            if not 0 <= number < 2**32:
                raise InvalidSpec(f"{where}.{key}", f"must be a uint32, not {number}")
            numbers.append(number)
        result.append(configs.IDMap(*numbers))
    return result


def check_user_namespace(spaces: list[configs.Namespace], uid_maps: list[configs.IDMap],
                         gid_maps: list[configs.IDMap]) -> None:
    """Mappings belong to a user namespace we make: runc's two rules, in its words.
    (A joined one, by path, has its maps already; a new one without maps would leave
    every id unmapped, and init could not even create a file.)"""
    new_user = any(ns.type == "user" and not ns.path for ns in spaces)
    joined_user = any(ns.type == "user" and ns.path for ns in spaces)
    if (uid_maps or gid_maps) and joined_user:
        raise InvalidSpec("linux.uidMappings", "mappings given for a user namespace joined "
                          "by path: it has its own")
    if (uid_maps or gid_maps) and not new_user:
        raise InvalidSpec("linux.uidMappings", "User namespace mappings specified, but "
                          "USER namespace isn't enabled in the config")
    if new_user and not (uid_maps and gid_maps):
        raise InvalidSpec("linux.uidMappings",
                          "user namespaces enabled, but no user mappings found")


def to_mount(value: object, field: str) -> configs.Mount:
    m = _object(value, field)
    destination = _str(m, "destination", field)
    if not destination:
        raise InvalidSpec(f"{field}.destination", "is missing")
    return configs.Mount(destination, _str(m, "type", field), _str(m, "source", field),
                         _strings(m.get("options"), f"{field}.options"))


def to_device(value: object, field: str) -> configs.Device:
    d = _object(value, field)
    path = _str(d, "path", field)
    if not path:
        raise InvalidSpec(f"{field}.path", "is missing")
    kind = _str(d, "type", field, "c")
    if kind not in DEVICE_TYPES:
        raise InvalidSpec(f"{field}.type", f"unknown device type {_shown(kind)}")
    # A FIFO has no device numbers ("REQUIRED unless type is p").
    number = _int if kind == "p" else _required_int
    return configs.Device(path, kind, number(d, "major", field), number(d, "minor", field),
                          _int(d, "fileMode", field, 0o666),
                          _int(d, "uid", field), _int(d, "gid", field))


def to_resources(value: object, field: str) -> configs.Resources:
    """linux.resources (also what `runc update` is given)."""
    r = _object(value, field)
    memory = _object(r.get("memory"), f"{field}.memory")
    pids = _object(r.get("pids"), f"{field}.pids")
    cpu = _object(r.get("cpu"), f"{field}.cpu")
    network = _object(r.get("network"), f"{field}.network")
    refuse_unsupported_resources(r, field)
    rules = []
    for i, item in enumerate(_list(r.get("devices"), f"{field}.devices")):
        where = f"{field}.devices[{i}]"
        rule = _object(item, where)
        kind = _str(rule, "type", where, "a")
        if kind not in ("a", "c", "b"):
            raise InvalidSpec(f"{where}.type", f"unknown device type {_shown(kind)}")
        rules.append(configs.DeviceRule(_bool(rule, "allow", where), kind,
                                        _int(rule, "major", where, -1),
                                        _int(rule, "minor", where, -1),
                                        _str(rule, "access", where, "rwm")))
    return configs.Resources(
        memory=_int(memory, "limit", f"{field}.memory"),
        memory_swap=_int(memory, "swap", f"{field}.memory"),
        pids_limit=_int(pids, "limit", f"{field}.pids"),
        cpu_shares=_int(cpu, "shares", f"{field}.cpu"),
        cpu_quota=_int(cpu, "quota", f"{field}.cpu"),
        cpu_period=_int(cpu, "period", f"{field}.cpu"),
        cpuset_cpus=_str(cpu, "cpus", f"{field}.cpu"),
        cpuset_mems=_str(cpu, "mems", f"{field}.cpu"),
        devices=rules,
        memory_reservation=_int(memory, "reservation", f"{field}.memory"),
        memory_swappiness=(None if memory.get("swappiness") is None
                           else _int(memory, "swappiness", f"{field}.memory")),
        cpu_rt_period=_int(cpu, "realtimePeriod", f"{field}.cpu"),
        cpu_rt_runtime=_int(cpu, "realtimeRuntime", f"{field}.cpu"),
        block_io=to_block_io(r.get("blockIO"), f"{field}.blockIO"),
        disable_oom_killer=_bool(memory, "disableOOMKiller", f"{field}.memory"),
        kernel_tcp=_int(memory, "kernelTCP", f"{field}.memory"),
        cpu_burst=_int(cpu, "burst", f"{field}.cpu"),
        cpu_idle=_int(cpu, "idle", f"{field}.cpu"),
        hugepage_limits=to_hugepage_limits(r.get("hugepageLimits"), f"{field}.hugepageLimits"),
        net_class_id=_int(network, "classID", f"{field}.network"),
        net_priorities=to_net_priorities(network.get("priorities"),
                                         f"{field}.network.priorities"),
        unified=_string_map(r.get("unified"), f"{field}.unified"),
    )


def refuse_unsupported_resources(r: dict, field: str) -> None:
    """What this kernel or this library cannot honour: an error, never a silent skip.
    Kernel memory: since Linux 6.1, memory.kmem.limit_in_bytes takes a write and does
    nothing (the kernel accounts kernel memory in the memory limit itself). RDMA: no
    rdma controller is driven here. useHierarchy: v1's switch is on by default and
    cannot be changed once the group has children; checkBeforeUpdate is for update."""
    memory = _object(r.get("memory"), f"{field}.memory")
    if memory.get("kernel") not in (None, -1, 0):
        raise InvalidSpec(f"{field}.memory.kernel", "kernel memory limits are not supported "
                          "by this kernel (a no-op since Linux 6.1)")
    if r.get("rdma"):
        raise InvalidSpec(f"{field}.rdma", "the rdma controller is not supported")
    if memory.get("useHierarchy") is False:
        raise InvalidSpec(f"{field}.memory.useHierarchy", "hierarchical accounting cannot "
                          "be turned off")
    block = _object(r.get("blockIO"), f"{field}.blockIO")
    if block.get("leafWeight") or any(
            isinstance(d, dict) and d.get("leafWeight") for d in block.get("weightDevice") or []):
        raise InvalidSpec(f"{field}.blockIO.leafWeight", "leaf weights are not supported "
                          "(CFQ's, gone since Linux 5.0)")


def to_hugepage_limits(value: object, field: str) -> dict[str, int]:
    limits: dict[str, int] = {}
    for i, item in enumerate(_list(value, field)):
        where = f"{field}[{i}]"
        h = _object(item, where)
        size = _str(h, "pageSize", where)
        if not size:
            raise InvalidSpec(f"{where}.pageSize", "is missing")
        limits[size] = _required_int(h, "limit", where)
    return limits


def to_net_priorities(value: object, field: str) -> dict[str, int]:
    result: dict[str, int] = {}
    for i, item in enumerate(_list(value, field)):
        where = f"{field}[{i}]"
        p = _object(item, where)
        name = _str(p, "name", where)
        if not name:
            raise InvalidSpec(f"{where}.name", "is missing")
        result[name] = _required_int(p, "priority", where)
    return result


def to_block_io(value: object, field: str) -> configs.BlockIO:
    """linux.resources.blockIO: a weight, and per-disk weights and rate limits."""
    b = _object(value, field)

    def limits(key: str, value_key: str) -> list[configs.BlockDeviceLimit]:
        out = []
        for i, item in enumerate(_list(b.get(key), f"{field}.{key}")):
            where = f"{field}.{key}[{i}]"
            d = _object(item, where)
            out.append(configs.BlockDeviceLimit(_required_int(d, "major", where),
                                                _required_int(d, "minor", where),
                                                _int(d, value_key, where)))
        return out

    return configs.BlockIO(
        weight=_int(b, "weight", field),
        weight_device=limits("weightDevice", "weight"),
        read_bps=limits("throttleReadBpsDevice", "rate"),
        write_bps=limits("throttleWriteBpsDevice", "rate"),
        read_iops=limits("throttleReadIOPSDevice", "rate"),
        write_iops=limits("throttleWriteIOPSDevice", "rate"),
    )


def to_process(value: object, field: str) -> configs.Process:
    """A `process` object: the spec's, or the one `exec` is given."""
    p = _object(value, field)
    args = _strings(p.get("args"), f"{field}.args")
    if not args:
        raise InvalidSpec(f"{field}.args", "must not be empty")
    user = _object(p.get("user"), f"{field}.user")
    size = _object(p.get("consoleSize"), f"{field}.consoleSize")
    height = _int(size, "height", f"{field}.consoleSize")
    width = _int(size, "width", f"{field}.consoleSize")
    oom = p.get("oomScoreAdj")
    return configs.Process(
        args=args,
        env=_strings(p.get("env"), f"{field}.env"),
        cwd=_str(p, "cwd", field) or "/",
        user=configs.User(
            _int(user, "uid", f"{field}.user"), _int(user, "gid", f"{field}.user"),
            _ints(user.get("additionalGids"), f"{field}.user.additionalGids")),
        terminal=_bool(p, "terminal", field),
        console_size=(height, width) if height and width else None,
        capabilities=(None if p.get("capabilities") is None
                      else to_capabilities(p["capabilities"], f"{field}.capabilities")),
        rlimits=to_rlimits(p.get("rlimits"), f"{field}.rlimits"),
        no_new_privileges=_bool(p, "noNewPrivileges", field),
        oom_score_adj=None if oom is None else _int(p, "oomScoreAdj", field),
        apparmor_profile=to_apparmor_profile(p, field),
        scheduler=(None if p.get("scheduler") is None
                   else to_scheduler(p["scheduler"], f"{field}.scheduler")),
        io_priority=(None if p.get("ioPriority") is None
                     else to_io_priority(p["ioPriority"], f"{field}.ioPriority")),
    )


def to_apparmor_profile(p: dict, field: str) -> str:
    """A profile is applied only where the kernel has AppArmor; elsewhere the spec's
    field cannot be honoured, and runc refuses it in these words."""
    profile = _str(p, "apparmorProfile", field)
    if profile and not lsm.apparmor_enabled():
        raise InvalidSpec(f"{field}.apparmorProfile",
                          "apparmor: config provided but apparmor not supported")
    if _str(p, "selinuxLabel", field) and not lsm.selinux_enabled():
        raise InvalidSpec(f"{field}.selinuxLabel", "selinux label is specified in config, "
                          "but selinux is disabled or not supported")
    return profile


def to_scheduler(value: object, field: str) -> configs.Scheduler:
    """process.scheduler, with runc's checks (sched_setattr(2)'s rules): nice only for
    the normal policies, a static priority only for the real-time ones."""
    sc = _object(value, field)
    policy = _str(sc, "policy", field)
    if policy not in sched.POLICIES:
        raise InvalidSpec(f"{field}.policy", f"invalid scheduler policy {_shown(policy)}")
    flags = 0
    for i, flag in enumerate(_strings(sc.get("flags"), f"{field}.flags")):
        if flag not in sched.FLAGS:
            raise InvalidSpec(f"{field}.flags[{i}]", f"invalid scheduler flag {_shown(flag)}")
        flags |= sched.FLAGS[flag]
    nice, priority = _int(sc, "nice", field), _int(sc, "priority", field)
    if nice and policy not in ("SCHED_OTHER", "SCHED_BATCH"):
        raise InvalidSpec(f"{field}.nice", f"invalid scheduler.nice: {nice} when "
                          f"scheduler.policy is {policy}")
    if not -20 <= nice <= 19:
        raise InvalidSpec(f"{field}.nice", f"must be -20 to 19, not {nice}")
    if priority and policy not in ("SCHED_FIFO", "SCHED_RR"):
        raise InvalidSpec(f"{field}.priority", "scheduler.priority can only be specified "
                          "for SchedFIFO or SchedRR policy")
    return configs.Scheduler(sched.POLICIES[policy], flags, nice, priority,
                             _int(sc, "runtime", field), _int(sc, "deadline", field),
                             _int(sc, "period", field))


def to_io_priority(value: object, field: str) -> configs.IOPriority:
    io = _object(value, field)
    kind = _str(io, "class", field)
    if kind not in sched.IO_CLASSES:
        raise InvalidSpec(f"{field}.class", f"invalid io priority class {_shown(kind)}")
    level = _required_int(io, "priority", field)
    if not 0 <= level <= 7:
        raise InvalidSpec(f"{field}.priority", f"must be 0 (highest) to 7, not {level}")
    return configs.IOPriority(sched.IO_CLASSES[kind], level)


def to_capabilities(value: object, field: str) -> configs.Capabilities:
    caps = _object(value, field)
    sets = {}
    for name in ("bounding", "effective", "inheritable", "permitted", "ambient"):
        where = f"{field}.{name}"
        sets[name] = [capability_name(c, f"{where}[{i}]")
                      for i, c in enumerate(_strings(caps.get(name), where))]
    return configs.Capabilities(**sets)


def capability_name(name: str, field: str) -> str:
    """"CAP_KILL", "cap_kill" or "kill" -> "CAP_KILL", a capability this kernel knows."""
    key = name.upper() if name.upper().startswith("CAP_") else "CAP_" + name.upper()
    if key not in capabilities.NUMBERS:
        raise InvalidSpec(field, f"unknown capability {_shown(name)}")
    return key


def to_rlimits(value: object, field: str) -> list[configs.Rlimit]:
    """process.rlimits: the spec forbids two entries of the same type."""
    result: list[configs.Rlimit] = []
    for i, item in enumerate(_list(value, field)):
        limit = to_rlimit(item, f"{field}[{i}]")
        if any(r.type == limit.type for r in result):
            raise InvalidSpec(f"{field}[{i}].type", f"duplicated rlimit {_shown(limit.type)}")
        result.append(limit)
    return result


def to_rlimit(value: object, field: str) -> configs.Rlimit:
    r = _object(value, field)
    kind = _str(r, "type", field)
    if kind not in process.RLIMITS:
        raise InvalidSpec(f"{field}.type", f"unknown rlimit type {_shown(kind)}")
    return configs.Rlimit(kind, _required_int(r, "soft", field),
                          _required_int(r, "hard", field))


def _choice(obj: dict, key: str, parent: str, known: object) -> str:
    value = _str(obj, key, parent)
    if value not in known:  # type: ignore[operator]
        raise InvalidSpec(_where(parent, key), f"unknown value {_shown(value)}")
    return value


def _errno(obj: dict, key: str, parent: str) -> int | None:
    return None if obj.get(key) is None else _int(obj, key, parent)


def to_seccomp(value: object, field: str) -> configs.Seccomp:
    """linux.seccomp: actions, operators, architectures and flags libseccomp knows.
    (SCMP_ACT_NOTIFY, which hands calls to a listener process, is not implemented.)"""
    s = _object(value, field)
    arches = _strings(s.get("architectures"), f"{field}.architectures")
    for i, arch in enumerate(arches):
        if arch.removeprefix("SCMP_ARCH_") not in seccomp.ARCHITECTURES:
            raise InvalidSpec(f"{field}.architectures[{i}]",
                              f"unknown architecture {_shown(arch)}")
    flags = _strings(s.get("flags"), f"{field}.flags")
    for i, flag in enumerate(flags):
        if flag not in seccomp.FLAGS:
            raise InvalidSpec(f"{field}.flags[{i}]", f"unknown flag {_shown(flag)}")
    rules = []
    for i, item in enumerate(_list(s.get("syscalls"), f"{field}.syscalls")):
        where = f"{field}.syscalls[{i}]"
        rule = _object(item, where)
        names = _strings(rule.get("names"), f"{where}.names")
        if not names or not all(names):
            raise InvalidSpec(f"{where}.names", "must be a list of syscall names")
        args = []
        for j, arg in enumerate(_list(rule.get("args"), f"{where}.args")):
            at = f"{where}.args[{j}]"
            a = _object(arg, at)
            index = _required_int(a, "index", at)
            if not 0 <= index < seccomp.MAX_ARGS:
                raise InvalidSpec(f"{at}.index", f"must be 0 to 5, not {index}")
            args.append(configs.SeccompArg(index, _int(a, "value", at),
                                           _choice(a, "op", at, seccomp.OPERATORS),
                                           _int(a, "valueTwo", at)))
        rules.append(configs.SeccompRule(names, _choice(rule, "action", where, seccomp.ACTIONS),
                                         _errno(rule, "errnoRet", where), args))
    return configs.Seccomp(
        default_action=_choice(s, "defaultAction", field, seccomp.ACTIONS),
        default_errno_ret=_errno(s, "defaultErrnoRet", field),
        architectures=arches, flags=flags, syscalls=rules)
