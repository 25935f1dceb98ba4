"""From an OCI runtime spec to an LXC configuration file, one section at a time.

In 2013 Docker wrote a text template per container (`lxc_template.go`) and handed it
to `lxc-start -f`. The spec every stage receives is the same dict; this module is
that template, rewritten as one small function per section so that each OCI field
can be read beside the LXC key it becomes:

    root.path, root.readonly     lxc.rootfs.path, lxc.rootfs.options      rootfs()
    hostname                     lxc.uts.name                              uts()
    domainname, linux.sysctl     (the start-host hook writes them)         namespaced_sysctls()
    linux.namespaces             lxc.namespace.share.*                     namespaces()
    annotations: network plan    lxc.net.N.* (veth on a bridge, or empty)  network()
    mounts                       lxc.mount.auto, lxc.autodev, lxc.mount.entry   mounts()
    linux.devices                lxc.mount.entry (binds of the host's nodes) device_nodes()
    maskedPaths, readonlyPaths   lxc.mount.entry (binds over them)         masks()
    linux.resources              lxc.cgroup.* (v1) / lxc.cgroup2.* (v2)    cgroups()
    linux.cgroupsPath            lxc.cgroup.dir.container / .monitor      cgroup_dirs()
    process.capabilities         lxc.cap.keep                              capabilities()
    process.noNewPrivileges      lxc.no_new_privs                          security()
    process.rlimits              lxc.prlimit.*                             prlimits()
    process.oomScoreAdj, linux.resources.memory.disableOOMKiller
                                 lxc.proc.oom_score_adj, lxc.cgroup.memory.oom_control  oom()
    linux.seccomp                lxc.seccomp.profile (LXC's own format)    seccomp()
    process.env, cwd, user       lxc.environment, lxc.init.cwd/uid/gid     process()
                                 (or, when it cannot be lines: carried, environment())
    process.terminal             lxc.console.path, lxc.pty.max             console()

Everything here is pure: a spec in, lines of text out (the unit tests check them
without LXC). Only `render` puts the sections together.

The file is data a container's creator chose (an image's Env and WorkingDir, a
request's hostname and volumes), written as text that LXC parses as keys. LXC reads a
line up to its newline and a value up to a NUL: either inside a value would end it,
and what followed would be a key of its own: an `lxc.mount.entry` of any host
directory, an `lxc.hook.*` run as root on the host. So every line is made by `line`,
which refuses such a value with the key's name; an environment, where Docker allows a
newline, takes another road (environment()).
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import stat
from collections.abc import Callable
from dataclasses import dataclass

from shared.oci.runtime_spec import planned_interfaces
from shared.securejoin import secure_join

# Docker's default spec mounts these itself; LXC has its own way of making each, and
# its way knows the container's namespaces (proc for its pid ns, sysfs for its net ns).
# Each is (read-only form, writable form); the spec's options say which (--privileged
# makes /sys and the cgroups writable, and leaves /proc/sys out of readonlyPaths).
AUTO_MOUNTS = {
    "proc": ("proc:mixed", "proc:rw"),  # mixed: /proc/sys and /proc/sysrq-trigger ro
    "sysfs": ("sys:ro", "sys:rw"),
    "cgroup": ("cgroup:ro", "cgroup:rw"),  # its own cgroups, seen through its cgroup ns
}

IFNAMSIZ = 15  # the kernel's limit on an interface name (16 bytes with the NUL)

# OCI namespace type -> LXC's name for it. LXC makes every one of these unless told
# to keep the host's (`lxc.namespace.keep`); a user namespace only comes with idmaps.
NAMESPACES = {
    "pid": "pid",
    "network": "net",
    "ipc": "ipc",
    "uts": "uts",
    "mount": "mnt",
    "cgroup": "cgroup",
}

CGROUP_V1_KEYS = {
    ("memory", "limit"): "memory.limit_in_bytes",
    ("memory", "swap"): "memory.memsw.limit_in_bytes",
    ("cpu", "shares"): "cpu.shares",
    ("cpu", "quota"): "cpu.cfs_quota_us",
    ("cpu", "period"): "cpu.cfs_period_us",
    ("pids", "limit"): "pids.max",
    ("cpu", "cpus"): "cpuset.cpus",  # --cpuset-cpus: which CPUs it may run on
    ("cpu", "mems"): "cpuset.mems",  # --cpuset-mems: which NUMA nodes it may allocate on
    ("memory", "reservation"): "memory.soft_limit_in_bytes",
    ("memory", "swappiness"): "memory.swappiness",
    ("cpu", "realtimePeriod"): "cpu.rt_period_us",  # before the runtime, checked against it
    ("cpu", "realtimeRuntime"): "cpu.rt_runtime_us",
    ("blockIO", "weight"): "blkio.weight",
}
# linux.resources.blockIO's per-disk lists -> the files taking "major:minor value" lines
BLOCK_IO_V1_KEYS = {
    "weightDevice": ("blkio.weight_device", "weight"),
    "throttleReadBpsDevice": ("blkio.throttle.read_bps_device", "rate"),
    "throttleWriteBpsDevice": ("blkio.throttle.write_bps_device", "rate"),
    "throttleReadIOPSDevice": ("blkio.throttle.read_iops_device", "rate"),
    "throttleWriteIOPSDevice": ("blkio.throttle.write_iops_device", "rate"),
}
# ... and v2's io.max keys for the same rate lists.
IO_MAX_KEYS = {
    "throttleReadBpsDevice": "rbps",
    "throttleWriteBpsDevice": "wbps",
    "throttleReadIOPSDevice": "riops",
    "throttleWriteIOPSDevice": "wiops",
}


@dataclass(frozen=True)
class Paths:
    """Where this container's files live on the host (the executor's state dir)."""

    state_dir: str  # the container's directory under lxc-start's -P path
    log: str  # LXC's log: how we learn the init's exit status (see lxc_executor)
    rootfs_mount: str  # where LXC assembles the root before pivot_root
    hook: str  # the hook script (see hook_script)


def escape(path: str) -> str:
    """A path in an fstab-style line: spaces and tabs as octal escapes, as fstab(5)."""
    return path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")


class UnsupportedSpec(ValueError):
    """A field of the spec that LXC has no way to apply; the message names it."""


def line(key: str, value: object) -> str:
    """One `key = value` line of the config; never two (see the module docstring)."""
    text = str(value)
    if "\n" in text or "\0" in text:
        raise UnsupportedSpec(f"{key}: the value {text!r} holds a newline or NUL, which "
                              "would end its line in the LXC config: refused")
    return f"{key} = {text}"


# --------------------------------------------------------------------- sections


def rootfs(spec: dict, paths: Paths) -> list[str]:
    """The root: the daemon has mounted the image's layers at root.path already."""
    root = spec["root"]
    lines = [
        line("lxc.rootfs.path", f"dir:{root['path']}"),
        line("lxc.rootfs.mount", paths.rootfs_mount),
    ]
    if root.get("readonly"):
        lines.append(line("lxc.rootfs.options", "ro"))
    return lines


def uts(spec: dict) -> list[str]:
    """The hostname. (The NIS domain name has no LXC key: see namespaced_sysctls.)"""
    return [line("lxc.uts.name", spec["hostname"])] if spec.get("hostname") else []


def namespaced_sysctls(spec: dict) -> dict[str, str]:
    """The kernel settings to write inside the container's namespaces: linux.sysctl,
    and the domain name, whose sysctl (kernel.domainname) is the UTS namespace's field.

    LXC's own `lxc.sysctl.*` writes them too late: after it has made /proc/sys
    read-only (`proc:mixed`), so each write fails. The start-host hook writes them
    instead (hook_script), from the host's /proc but entered into the container's
    namespaces: a namespaced sysctl is the one of the namespace of the task that
    writes it, whatever /proc it writes through."""
    settings = dict(spec.get("linux", {}).get("sysctl") or {})
    new = {n["type"] for n in spec.get("linux", {}).get("namespaces", []) if not n.get("path")}
    if spec.get("domainname") and "uts" in new:
        settings["kernel.domainname"] = spec["domainname"]
    return settings


def namespaces(spec: dict) -> list[str]:
    """Which namespaces to make. Absent from the spec = the host's (e.g. --network host).

    A namespace with a `path` is joined, not made: `lxc.namespace.share.*` takes an
    nsfs path (or a pid, or another container's name).
    """
    wanted = {n["type"]: n.get("path") for n in spec.get("linux", {}).get("namespaces", [])}
    lines = []
    if "cgroup" not in wanted:
        # The host's cgroup namespace: LXC makes a cgroup namespace of its own
        # whatever a share.cgroup line says, unless it is left out of the list of
        # those to make. (`lxc.namespace.keep = cgroup` says the same, but makes LXC
        # 5.0 fail to make /dev, as for the network below.)
        made = [lxc for oci, lxc in NAMESPACES.items() if oci in wanted and not wanted[oci]]
        lines.append(line("lxc.namespace.clone", " ".join(made)))
    for oci, lxc in NAMESPACES.items():
        if oci == "cgroup" and oci not in wanted:
            continue
        if oci not in wanted:
            # The host's: join lxc-start's own (the daemon's). `lxc.namespace.keep`
            # says the same in fewer words, but with it LXC 5.0 fails to make /dev
            # (EOVERFLOW from mount_autodev) when the kept one is the network.
            lines.append(line(f"lxc.namespace.share.{lxc}", f"/proc/self/ns/{lxc}"))
        elif wanted[oci]:
            lines.append(line(f"lxc.namespace.share.{lxc}", wanted[oci]))
    if "network" in wanted and not wanted["network"]:
        lines += network(spec)  # a new network namespace: LXC makes its interfaces
    return lines


def network(spec: dict) -> list[str]:
    """The interfaces of the network namespace LXC makes, one `lxc.net.N` per planned
    endpoint (the daemon's plan, see runtime_spec.planned_interfaces).

    Docker 0.1's template said the same (`lxc.network.type = veth`, `.link = docker0`,
    `.ipv4 = ...`): LXC makes the veth pair on the host, puts the host end on the
    bridge and up, moves the other end into the container's new namespace, where it
    renames it, sets its MAC and address, brings it up and adds the default route; all
    before the start-host hook runs. When the container stops LXC deletes the host end
    it named (and with it the pair). Without a plan (`--network none`, or a daemon
    without bridge networking): a namespace with only loopback.
    """
    planned = planned_interfaces(spec)
    if not planned:
        return [line("lxc.net.0.type", "empty")]
    lines = []
    for index, ifc in enumerate(planned):
        lines += veth(f"lxc.net.{index}", ifc)
    return lines


def veth(key: str, ifc: dict) -> list[str]:
    """One planned endpoint as an LXC veth on the network's bridge.

    The host end gets the daemon's name (`veth.pair`) so that the daemon can find it,
    and delete it after a crash, as in the other stages. LXC 5.0 does not refuse a
    name longer than IFNAMSIZ: it logs an error and goes on with a `vethXXXXXX` of its
    own, which nothing of ours would ever delete; so a long name stops here.
    The broadcast address is given, not left to LXC: LXC 5.0.2 here set `brd 0.0.0.255`
    on a /24 when left to work it out.
    """
    if len(ifc["host_end"]) > IFNAMSIZ or len(ifc["ifname"]) > IFNAMSIZ:
        raise ValueError(f"interface name {ifc['host_end']!r} or {ifc['ifname']!r}: "
                         f"longer than {IFNAMSIZ} characters")
    cidr = ipaddress.ip_interface(f"{ifc['address']}/{ifc['prefixlen']}")
    lines = [
        line(f"{key}.type", "veth"),  # LXC wants the type before the device's other keys
        line(f"{key}.link", ifc["bridge"]),
        line(f"{key}.veth.pair", ifc["host_end"]),
        line(f"{key}.name", ifc["ifname"]),
        line(f"{key}.hwaddr", ifc["mac"]),
        line(f"{key}.ipv4.address", f"{cidr.with_prefixlen} {cidr.network.broadcast_address}"),
    ]
    if ifc.get("default_route"):
        lines.append(line(f"{key}.ipv4.gateway", ifc["gateway"]))
    lines.append(line(f"{key}.flags", "up"))
    return lines


def mounts(spec: dict) -> list[str]:
    """The spec's mounts, in order. LXC makes /proc, /sys, /sys/fs/cgroup (auto),
    /dev (autodev: a tmpfs with the usual nodes) and /dev/pts (a new devpts instance)
    itself; every other mount becomes an fstab-style `lxc.mount.entry`, relative to
    the root (LXC mounts it inside the container's root, never on the host)."""
    auto: list[str] = []
    lines: list[str] = []
    for m in spec.get("mounts", []):
        kind, dest = m.get("type", "none"), m["destination"]
        options = list(m.get("options") or [])
        if kind in AUTO_MOUNTS:
            readonly_form, writable_form = AUTO_MOUNTS[kind]
            if kind == "proc":
                ro = "/proc/sys" in spec.get("linux", {}).get("readonlyPaths", [])
            else:
                ro = "ro" in options
            auto.append(readonly_form if ro else writable_form)
        elif dest == "/dev" and kind == "tmpfs":
            lines.append(line("lxc.autodev", 1))
        elif kind == "devpts":
            # LXC mounts a fresh devpts on /dev/pts with ptmx beside it; its max is the
            # one setting it takes.
            lines.append(line("lxc.pty.max", 1024))
        else:
            if kind == "bind" or "bind" in options or "rbind" in options:
                kind = "none"
                # A destination the image made a symlink (even one out of the root)
                # is followed inside the root, as runc's secure_join does: LXC itself
                # would refuse the symlink, Docker lands the mount inside.
                dest = inside_root(spec, dest)
                create = "create=dir" if os.path.isdir(m["source"]) else "create=file"
                if {"shared", "rshared"} & set(options):
                    # LXC makes the whole tree a slave of the host's before it mounts
                    # an entry ("can not cross host boundary"): nothing could propagate
                    # back, so a shared bind would be a lie.
                    raise UnsupportedSpec(f"mounts: {m['destination']}: shared propagation "
                                          "is not supported by LXC (its mounts are "
                                          "slaves of the host's)")
                options = [o for o in options if o != "rprivate"]
                if "rbind" not in options:  # LXC's rbind: MS_BIND|MS_REC, as runc's
                    options = [*dict.fromkeys(["bind", *options])]
            else:
                create = "create=dir"
            fields = [escape(m.get("source") or kind), escape(dest.lstrip("/")), kind,
                      ",".join([*options, create]), "0", "0"]
            lines.append(line("lxc.mount.entry", " ".join(fields)))
    if auto:
        lines.insert(0, line("lxc.mount.auto", " ".join(auto)))
    return lines


def inside_root(spec: dict, dest: str) -> str:
    """`dest` with its symlinks resolved inside the spec's root (what is there now)."""
    root = (spec.get("root") or {}).get("path") or ""
    if not root or not os.path.isdir(root):
        return dest
    relative = os.path.relpath(secure_join(root, dest), root)
    return "/" if relative == "." else "/" + relative


def masks(spec: dict, paths: Paths, is_dir: Callable[[str], bool] = os.path.isdir) -> list[str]:
    """Hide what the container must not read, make read-only what it must not write.

    A masked file gets /dev/null bound over it, a masked directory an empty read-only
    tmpfs. A read-only path is bound over itself read-only; LXC mounts entries before
    pivot_root, while the root is still at `rootfs_mount`, so that is the source.
    These paths are in /proc and /sys, the same kernel's on the host: `is_dir` asks
    the host which of them are directories. `optional`: a path this kernel lacks is
    not an error.
    """
    linux = spec.get("linux", {})
    lines = []
    for path in linux.get("maskedPaths", []):
        rel = escape(path.lstrip("/"))
        if is_dir(path):
            lines.append(line("lxc.mount.entry", f"tmpfs {rel} tmpfs ro,optional 0 0"))
        else:
            lines.append(line("lxc.mount.entry", f"/dev/null {rel} none bind,optional 0 0"))
    for path in linux.get("readonlyPaths", []):
        if path in ("/proc/sys", "/proc/sysrq-trigger"):
            continue  # proc:mixed made these read-only already (see mounts())
        source = escape(os.path.join(paths.rootfs_mount, path.lstrip("/")))
        rel = escape(path.lstrip("/"))
        lines.append(line("lxc.mount.entry", f"{source} {rel} none bind,ro,optional 0 0"))
    return lines


def cgroup_dirs(spec: dict) -> list[str]:
    """Where LXC puts the container's cgroup, and its monitor's.

    By default LXC makes `lxc.payload.<name>` and `lxc.monitor.<name>` at the top of
    every hierarchy. Here they go where the other stages put theirs, under the
    `whalebones` parent, so that limits, OOM counts and leaks are found in one place.
    The pivot is where the monitor moves just before it removes the others, and the
    one LXC leaves behind: `delete` removes it.
    """
    base = spec.get("linux", {}).get("cgroupsPath", "").strip("/")
    if not base:
        return []
    return [
        line("lxc.cgroup.dir.container", base),
        line("lxc.cgroup.dir.monitor", f"{base}.lxc-monitor"),
        line("lxc.cgroup.dir.monitor.pivot", f"{base}.lxc-pivot"),
    ]


def cgroups(spec: dict, version: int) -> list[str]:
    """linux.resources as cgroup settings, in the keys of the host's cgroup version.

    v1 files are named by controller (`lxc.cgroup.memory.limit_in_bytes`); v2 has one
    tree and other names (`lxc.cgroup2.memory.max`, `cpu.max` = "quota period").
    """
    res = spec.get("linux", {}).get("resources", {})
    lines = []
    if version == 1:
        for (group, field), key in CGROUP_V1_KEYS.items():
            value = res.get(group, {}).get(field)
            if value is not None:
                lines.append(line(f"lxc.cgroup.{key}", value))
        lines += block_io_v1(res.get("blockIO", {}))
        lines += devices(res.get("devices", []), "lxc.cgroup")
        return lines
    memory, cpu, pids = res.get("memory", {}), res.get("cpu", {}), res.get("pids", {})
    if "limit" in memory:
        lines.append(line("lxc.cgroup2.memory.max", memory["limit"]))
        if "swap" in memory:  # v1's memsw counts memory + swap; v2's swap.max only swap
            swap = "max" if memory["swap"] < 0 else memory["swap"] - memory["limit"]
            lines.append(line("lxc.cgroup2.memory.swap.max", swap))
    if "quota" in cpu or "period" in cpu:
        quota = cpu["quota"] if cpu.get("quota", 0) > 0 else "max"  # -1: no quota
        lines.append(line("lxc.cgroup2.cpu.max", f"{quota} {cpu.get('period', 100000)}"))
    if "shares" in cpu:
        # v2's weight runs 1..10000 where v1's shares ran 2..262144 (runc's formula)
        weight = 1 + ((cpu["shares"] - 2) * 9999) // 262142
        lines.append(line("lxc.cgroup2.cpu.weight", weight))
    if "limit" in pids:
        lines.append(line("lxc.cgroup2.pids.max", pids["limit"]))
    for field in ("cpus", "mems"):
        if field in cpu:
            lines.append(line(f"lxc.cgroup2.cpuset.{field}", cpu[field]))
    lines += more_limits_v2(res)
    lines += devices(res.get("devices", []), "lxc.cgroup2")
    return lines


def block_io_v1(block_io: dict) -> list[str]:
    """Per-disk I/O weights and rate limits: one "major:minor value" line each (LXC
    writes each key's lines to the file in turn, as a shell would)."""
    lines = []
    for group, (key, field) in BLOCK_IO_V1_KEYS.items():
        for d in block_io.get(group, []):
            lines.append(line(f"lxc.cgroup.{key}", f"{d['major']}:{d['minor']} {d[field]}"))
    return lines


def more_limits_v2(res: dict) -> list[str]:
    """--memory-reservation (memory.low) and the I/O limits (io.weight, io.max) on v2.

    v2 has no swappiness and no real-time CPU files; the daemon refuses those at
    create, and a spec that asks anyway is refused here rather than ignored."""
    memory, cpu, block_io = res.get("memory", {}), res.get("cpu", {}), res.get("blockIO", {})
    if "swappiness" in memory:
        raise UnsupportedSpec("linux.resources.memory.swappiness: cgroup v2 has no swappiness")
    if "realtimePeriod" in cpu or "realtimeRuntime" in cpu:
        raise UnsupportedSpec("linux.resources.cpu.realtime*: cgroup v2 has no real-time limits")
    lines = []
    if "reservation" in memory:
        lines.append(line("lxc.cgroup2.memory.low", memory["reservation"]))
    if "weight" in block_io:
        lines.append(line("lxc.cgroup2.io.weight", f"default {io_weight(block_io['weight'])}"))
    for d in block_io.get("weightDevice", []):
        lines.append(line("lxc.cgroup2.io.weight",
                          f"{d['major']}:{d['minor']} {io_weight(d['weight'])}"))
    for group, key in IO_MAX_KEYS.items():
        for d in block_io.get(group, []):
            lines.append(line("lxc.cgroup2.io.max", f"{d['major']}:{d['minor']} {key}={d['rate']}"))
    return lines


def io_weight(blkio_weight: int) -> int:
    """blkio.weight (10..1000) -> io.weight (1..10000), runc's conversion."""
    return 1 + (blkio_weight - 10) * 9999 // 990


def devices(rules: list[dict], prefix: str) -> list[str]:
    """The device allow-list, as the v1 devices controller words it ("c 1:3 rwm").
    On v2 LXC turns the same lines into an eBPF program."""
    lines = []
    for rule in rules:
        kind = rule.get("type", "a")
        if kind == "a":
            node = "a"
        else:
            # The spec words "any" as -1 (or leaves it out); the kernel's syntax as *.
            major, minor = (rule.get(k) for k in ("major", "minor"))
            major = "*" if major is None or major == -1 else major
            minor = "*" if minor is None or minor == -1 else minor
            node = f"{kind} {major}:{minor} {rule.get('access') or 'rwm'}"
        key = "devices.allow" if rule.get("allow") else "devices.deny"
        lines.append(line(f"{prefix}.{key}", node))
    return lines


def host_node(kind: str, major: int, minor: int) -> str | None:
    """The host's /dev node for a device number, as the kernel names it in sysfs
    (/sys/dev/char/1:3/uevent says DEVNAME=null), if that node is there."""
    sys_dir = "block" if kind == "b" else "char"
    try:
        with open(f"/sys/dev/{sys_dir}/{major}:{minor}/uevent") as f:
            name = next((ln.split("=", 1)[1].strip() for ln in f if ln.startswith("DEVNAME=")),
                        None)
        if name is None:
            return None
        path = os.path.join("/dev", name)
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    wanted = stat.S_ISBLK if kind == "b" else stat.S_ISCHR
    return path if wanted(st.st_mode) and st.st_rdev == os.makedev(major, minor) else None


def device_nodes(spec: dict,
                 find: Callable[[str, int, int], str | None] = host_node) -> list[str]:
    """linux.devices: nodes beyond autodev's few (--device, --privileged).

    LXC has no key that makes a node by number; the way in is a bind mount of the
    host's own node (`find` says where it is) onto the path in the container,
    `create=file` making the file to mount on in autodev's /dev. Whether it may be
    opened is the allow-list's business (cgroups()), as for any node. /dev/ptmx and
    /dev/console are autodev's own: the host's would be the host's ptys."""
    lines = []
    for dev in spec.get("linux", {}).get("devices") or []:
        path = dev["path"]
        if path in ("/dev/ptmx", "/dev/console") or path.startswith("/dev/pts/"):
            continue
        if dev.get("type") not in ("b", "c"):
            raise UnsupportedSpec(f"linux.devices: {path} of type {dev.get('type')!r}: "
                                  "LXC binds only block and character devices")
        source = find(dev["type"], int(dev["major"]), int(dev["minor"]))
        if source is None:
            raise UnsupportedSpec(f"linux.devices: no node of the host is "
                                  f"{dev['type']} {dev['major']}:{dev['minor']} ({path})")
        fields = [escape(source), escape(path.lstrip("/")), "none", "bind,create=file", "0", "0"]
        lines.append(line("lxc.mount.entry", " ".join(fields)))
    return lines


def capabilities(spec: dict) -> list[str]:
    """Keep the bounding set's capabilities, drop the rest (`lxc.cap.keep`).

    LXC names them as capabilities(7) does, without CAP_ and in lower case. Keeping
    none needs the special word `none` (an empty keep list would keep everything).
    """
    caps = spec.get("process", {}).get("capabilities", {}).get("bounding")
    if caps is None:
        return []
    names = [c.removeprefix("CAP_").lower() for c in caps]
    return [line("lxc.cap.keep", " ".join(names) if names else "none")]


def prlimits(spec: dict) -> list[str]:
    """process.rlimits as `lxc.prlimit.nofile = soft:hard`: LXC sets them on the init
    (prlimit(2)) before it execs the command. RLIM_INFINITY is LXC's `unlimited`."""
    lines = []
    for limit in spec.get("process", {}).get("rlimits") or []:
        name = limit["type"].removeprefix("RLIMIT_").lower()
        soft, hard = (LXC_UNLIMITED if v == RLIM_INFINITY else v
                      for v in (limit["soft"], limit["hard"]))
        lines.append(line(f"lxc.prlimit.{name}", f"{soft}:{hard}"))
    return lines


RLIM_INFINITY = 2**64 - 1
LXC_UNLIMITED = "unlimited"


def oom(spec: dict, version: int) -> list[str]:
    """process.oomScoreAdj (`lxc.proc.oom_score_adj`, written to the init's
    /proc/PID/oom_score_adj) and disableOOMKiller (cgroup v1's memory.oom_control)."""
    lines = []
    score = spec.get("process", {}).get("oomScoreAdj")
    if score is not None:
        lines.append(line("lxc.proc.oom_score_adj", score))
    memory = spec.get("linux", {}).get("resources", {}).get("memory", {})
    if memory.get("disableOOMKiller"):
        if version != 1:
            raise UnsupportedSpec("linux.resources.memory.disableOOMKiller: cgroup v2 has "
                                  "no way to disable the OOM killer")
        lines.append(line("lxc.cgroup.memory.oom_control", 1))
    return lines


def security(spec: dict) -> list[str]:
    """No LSM profile of LXC's (this project sets none, as on a host without AppArmor),
    and no_new_privs if asked: no setuid binary gives back what was dropped."""
    lines = [line("lxc.apparmor.profile", "unconfined")]
    if spec.get("process", {}).get("noNewPrivileges"):
        lines.append(line("lxc.no_new_privs", 1))
    return lines


# OCI seccomp actions -> LXC's words for them. LXC's parser knows no others (no LOG,
# KILL_PROCESS or TRACE): a profile using them is refused, not loaded without them.
SECCOMP_ACTIONS = {"SCMP_ACT_ALLOW": "allow", "SCMP_ACT_KILL": "kill",
                   "SCMP_ACT_KILL_THREAD": "kill", "SCMP_ACT_TRAP": "trap",
                   "SCMP_ACT_ERRNO": "errno"}


def seccomp_path(paths: Paths) -> str:
    return os.path.join(paths.state_dir, "seccomp")


def seccomp(spec: dict, paths: Paths) -> list[str]:
    """The system-call filter: LXC loads it from a file of its own (`seccomp_profile`)."""
    if spec.get("linux", {}).get("seccomp") is None:
        return []
    return [line("lxc.seccomp.profile", seccomp_path(paths))]


def _seccomp_action(action: str, errno_ret: int | None) -> str:
    word = SECCOMP_ACTIONS.get(action)
    if word is None:
        raise UnsupportedSpec(f"linux.seccomp: action {action} is not supported by LXC")
    return f"errno {1 if errno_ret is None else errno_ret}" if word == "errno" else word


def seccomp_profile(spec: dict) -> str | None:
    """linux.seccomp in LXC's seccomp format, version 2 (lxc.container.conf(5)):

        2
        allowlist errno 1            every call not listed fails with EPERM
        read allow                   one line per call: its action...
        socket allow [0,40,SCMP_CMP_GT]     ...and conditions on its arguments

    LXC adds the rules for each architecture the CPU runs (x86_64, x86, x32), as the
    OCI `architectures` list asks. An argument condition is `[index,value,op]`; for
    SCMP_CMP_MASKED_EQ, `[index,value,op,mask]`, where OCI's `value` is the mask and
    `valueTwo` the value. Rules whose action is the default are left out (libseccomp
    refuses them); conditions on the same argument become rules of their own (runc's
    rule: either may allow the call)."""
    policy = spec.get("linux", {}).get("seccomp")
    if policy is None:
        return None
    default = _seccomp_action(policy.get("defaultAction", ""), policy.get("defaultErrnoRet"))
    out = ["2", "denylist" if default == "allow" else f"allowlist {default}"]
    for rule in policy.get("syscalls") or []:
        action = _seccomp_action(rule.get("action", ""), rule.get("errnoRet"))
        if action == default:
            continue
        conds = []
        for arg in rule.get("args") or []:
            index, op = arg["index"], arg["op"]
            if op == "SCMP_CMP_MASKED_EQ":
                conds.append(f"[{index},{arg.get('valueTwo', 0)},{op},{arg.get('value', 0)}]")
            else:
                conds.append(f"[{index},{arg.get('value', 0)},{op}]")
        indexes = [arg["index"] for arg in rule.get("args") or []]
        groups = [[c] for c in conds] if len(set(indexes)) < len(indexes) else [conds]
        for name in rule.get("names") or []:
            out += [" ".join([name, action, "".join(group)]).rstrip() for group in groups]
    return "\n".join(out) + "\n"


def process(spec: dict) -> list[str]:
    """Who the init is: environment, working directory, user and groups.

    The command itself is not in the file: it goes on lxc-start's command line
    (init_command).
    """
    proc = spec.get("process", {})
    lines = environment(proc.get("env", []))
    lines.append(line("lxc.init.cwd", proc.get("cwd") or "/"))
    user = proc.get("user", {})
    lines.append(line("lxc.init.uid", user.get("uid", 0)))
    lines.append(line("lxc.init.gid", user.get("gid", 0)))
    groups = user.get("additionalGids") or []
    if groups:
        lines.append(line("lxc.init.groups", ",".join(str(g) for g in groups)))
    return lines


def environment(env: list[str]) -> list[str]:
    """The init's environment: `lxc.environment = NAME=VALUE`, one line each.

    Docker allows any byte but NUL in a value, a newline too, which a line cannot
    hold; and LXC trims a value's spaces and quotes. An environment that would not
    come out of the file exactly is carried instead, in a file descriptor lxc-start
    inherits and passes to the init (LXC keeps inherited descriptors, for socket
    activation): a memfd holding a line of shell (carried_script), which the init,
    the static busybox bound into the container, reads and runs:

        busybox sh -c 'eval "$(busybox cat <&N)"' CMD ARGS
          -> exec busybox env -i -- 'NAME=VALUE' ... "$0" "$@" N<&-

    and the command starts with exactly NAME=VALUE, ... (env -i: nothing else, not
    even LXC's container=lxc), as pid 1. The values are never in this file nor on a
    command line, which any host user can read in /proc/PID/cmdline. An entry without
    "=" is refused as runc refuses it (LXC would copy the daemon's variable of that
    name into the container).
    """
    for entry in env:
        if "=" not in entry:
            raise UnsupportedSpec(f"process.env: invalid environment variable {entry!r}: "
                                  "missing '='")
        if "\0" in entry:
            raise UnsupportedSpec(f"process.env: {entry!r} holds a NUL, which no "
                                  "environment can")
    if needs_carrier(env):
        return []  # carried: see init_command
    return [line("lxc.environment", entry) for entry in env]


def needs_carrier(env: list[str]) -> bool:
    """Whether some entry would not survive a config line: a newline ends it, and
    LXC trims the value's leading and trailing blanks and a pair of quotes around it."""
    return any("\n" in e or e != e.strip() or e[:1] in "'\"" for e in env)


def carried_script(env: list[str], helper: str, fd: int) -> bytes:
    """The line of shell the init reads from descriptor `fd` (see environment())."""
    words = " ".join(shlex.quote(entry) for entry in env)
    return f'exec {helper} env -i -- {words} "$0" "$@" {fd}<&-\n'.encode()


def init_command(args: list[str], env: list[str], helper: str, fd: int) -> list[str]:
    """What lxc-start runs as the init: the command, or, with a carried environment,
    the busybox bound at `helper` that reads it from descriptor `fd`, then execs the
    command with it. env(1) reads any leading NAME=VALUE word as a variable, so a
    command named so cannot follow it."""
    if not needs_carrier(env):
        return list(args)
    if "=" in args[0]:
        raise UnsupportedSpec(f"process.args: command {args[0]!r} holds '=' and the "
                              "environment cannot be config lines: LXC cannot run both")
    return [helper, "sh", "-c", f'eval "$({helper} cat <&{fd})"', *args]


def console(spec: dict) -> list[str]:
    """With a terminal, LXC makes the container a pty from its own devpts (the init
    sees /dev/pts/0 and /dev/console) and copies it to lxc-start's own terminal.
    Without one, `none`: the init inherits lxc-start's stdin, stdout and stderr."""
    if spec.get("process", {}).get("terminal"):
        return []  # LXC's default: a console pty
    return [line("lxc.console.path", "none")]


def logging(paths: Paths) -> list[str]:
    """INFO is the level at which LXC writes down how the init ended."""
    return [line("lxc.log.file", paths.log), line("lxc.log.level", "INFO")]


def hooks(paths: Paths) -> list[str]:
    """LXC runs each hook as `COMMAND NAME lxc TYPE` on the host (see hook_script)."""
    return [
        line("lxc.hook.start-host", f"/bin/sh {escape(paths.hook)}"),
        line("lxc.hook.stop", f"/bin/sh {escape(paths.hook)}"),
    ]


def hook_script(paths: Paths, start_fifo: str, pid_file: str, oom_files: list[str],
                oom_copy: str, sysctls: dict[str, str] | None = None) -> str:
    """The shell script LXC runs as two hooks.

    start-host: LXC has no "created" state, but it runs this after the namespaces,
      mounts and cgroups are made and before it execs the init: the script writes
      `sysctls` (namespaced_sysctls) in the init's namespaces, the init's pid, and
      waits until `Executor.start` writes to a FIFO.
    stop: the init has exited and LXC is about to remove its cgroup; this keeps the
      OOM killer's count from it, for `docker inspect`'s OOMKilled.
    """
    copies = "\n".join(f"    cat {quote(f)} 2>/dev/null" for f in oom_files)
    # A key's dots are the path's slashes (net.ipv4.ip_forward: net/ipv4/ip_forward),
    # so no key can climb out of /proc/sys; every value is quoted, never parsed.
    writes = "".join(
        f"    nsenter --target \"$LXC_PID\" --uts --ipc --net -- /bin/sh -c "
        f"'printf %s \"$1\" > \"$2\"' sysctl {quote(value)} "
        f"{quote('/proc/sys/' + key.replace('.', '/'))} || exit 1\n"
        for key, value in (sysctls or {}).items())
    return f"""#!/bin/sh
# LXC hooks of one container (written by stages/stage1_lxc): $3 says which.
case "$3" in
start-host)
{writes}    echo "$LXC_PID" > {quote(pid_file)}.tmp && mv {quote(pid_file)}.tmp {quote(pid_file)}
    read _ < {quote(start_fifo)}
    ;;
stop)
    {{
{copies or "    :"}
    }} > {quote(oom_copy)}
    ;;
esac
"""


def quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# --------------------------------------------------------------------- the file


def render(spec: dict, paths: Paths, cgroup_version: int,
           is_dir: Callable[[str], bool] = os.path.isdir,
           find_node: Callable[[str, int, int], str | None] = host_node) -> str:
    """The whole LXC config for one container, section by section."""
    sections = [
        ("root filesystem", rootfs(spec, paths)),
        ("hostname", uts(spec)),
        ("namespaces and network", namespaces(spec)),
        ("mounts", mounts(spec)),
        ("device nodes", device_nodes(spec, find_node)),
        ("masked and read-only paths", masks(spec, paths, is_dir)),
        ("cgroups", cgroup_dirs(spec) + cgroups(spec, cgroup_version)),
        ("limits", prlimits(spec) + oom(spec, cgroup_version)),
        ("capabilities", capabilities(spec)),
        ("security", security(spec)),
        ("system calls", seccomp(spec, paths)),
        ("the init process", process(spec)),
        ("terminal", console(spec)),
        ("log", logging(paths)),
        ("hooks", hooks(paths)),
    ]
    out = ["# Generated by Whalebones stage 1 from the container's OCI spec."]
    for title, lines in sections:
        if lines:
            out += ["", f"# {title}", *lines]
    return "\n".join(out) + "\n"
