"""From a container's config to an OCI runtime spec.

Every era consumes the same spec: at each start the daemon translates the container's
config (the Engine API's Config and HostConfig, merged with the image's config once,
at create: shared/daemon/containerconfig.py) into one `config.json`-shaped dict, and
only what happens to that dict differs by era. The rules are Docker's own (moby's
daemon/oci_linux.go).
"""

from __future__ import annotations

import copy
import json
import os
import posixpath
import re
import shutil
from dataclasses import dataclass

from shared.oci import confinement, devices, namespace_modes, seccomp, tmpfs
from shared.oci import resources as oci_resources
from shared.oci.defaults import default_spec

# The network plan for an executor that makes the container's interfaces itself (stage
# 1: LXC). The OCI spec has no field for "a veth on this bridge, with this address";
# annotations are where a runtime and its caller put what they agree on between them.
INTERFACES_ANNOTATION = "org.whalebones.network.interfaces"


class SpecError(ValueError):
    """The request asks for something that cannot be a container (HTTP 400)."""


@dataclass(frozen=True)
class User:
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    home: str = "/"


def merge_env(*layers: list[str]) -> list[str]:
    """`KEY=value` lists merged in order, a later key replacing an earlier one in place.

    Each use is a rule of Docker's: the image's env under the create's (once, at
    create: shared/daemon/containerconfig.py); the daemon's own variables (HOSTNAME,
    TERM) under the container's, at each start; the container's under an exec's.
    `-e NAME` without a value (and no such variable on the client's host, which the
    CLI would have filled in) is dropped, as Docker does.
    """
    merged: dict[str, str] = {}
    for layer in layers:
        for entry in layer:
            key, sep, value = entry.partition("=")
            if sep:
                merged[key] = value
    return [f"{k}={v}" for k, v in merged.items()]


def resources(host_config: dict) -> dict:
    """HostConfig limits -> linux.resources (cgroup settings), validated as Docker does
    (shared/oci/resources.py; the cpusets here); SpecError (a 400) names what is refused."""
    try:
        res = oci_resources.to_spec(host_config)
    except oci_resources.ResourceError as e:
        raise SpecError(str(e)) from None
    for key, field, what in (("CpusetCpus", "cpus", "CPUs"),
                             ("CpusetMems", "mems", "memory nodes")):
        if host_config.get(key):
            check_cpuset(host_config[key], available_cpuset(field), field, what)
            res.setdefault("cpu", {})[field] = host_config[key]
    return res


# The top of the cgroup v1 cpuset hierarchy, or the v2 root's: the CPUs and memory
# nodes this machine lets containers have.
CPUSET_ROOTS = ("/sys/fs/cgroup/cpuset/cpuset.{}", "/sys/fs/cgroup/cpuset.{}.effective")


def available_cpuset(field: str) -> str:
    """"0-1": the CPUs (field "cpus") or memory nodes ("mems") there are, as dockerd
    reads them (pkg/sysinfo); from the scheduler if no cpuset controller is mounted."""
    for pattern in CPUSET_ROOTS:
        try:
            with open(pattern.format(field)) as f:
                return f.read().strip()
        except OSError:
            continue
    return ",".join(str(c) for c in sorted(os.sched_getaffinity(0))) if field == "cpus" else "0"


_GO_INT = re.compile(r"[+-]?[0-9]+\Z")  # what Go's strconv.Atoi takes


def parse_cpuset(text: str, maximum: int = 0) -> set[int]:
    """"0-2,5" -> {0, 1, 2, 5}, with dockerd's errors (pkg/parsers parseUintList)."""
    result: set[int] = set()
    if not text:
        return result
    invalid = SpecError(f"invalid format: {text}")
    for part in text.split(","):
        low, dash, high = part.partition("-") if "-" in part else (part, "", part)
        if not _GO_INT.match(low) or not _GO_INT.match(high):
            raise invalid
        first, last = int(low), int(high)
        if last < first:
            raise invalid
        if maximum and last > maximum:
            raise SpecError(f"value of out range, maximum is {maximum}")
        result.update(range(first, last + 1))
    return result


def check_cpuset(requested: str, available: str, field: str, what: str) -> None:
    """--cpuset-cpus / --cpuset-mems: only what the machine has (at create)."""
    have = parse_cpuset(available)
    try:
        wanted = parse_cpuset(requested, max([8192, *have]))
    except SpecError as e:
        raise SpecError(f"Invalid value {requested} for cpuset {field}: {e}") from None
    if not wanted <= have:
        raise SpecError(f"Requested {what} are not available - requested {requested}, "
                        f"available: {available}")


# The daemon's own cgroup parent (dockerd's is /docker); `--cgroup-parent` replaces it.
DEFAULT_CGROUP_PARENT = "/whalebones"


def cgroups_path(cid: str, host_config: dict, default_parent: str) -> str:
    """linux.cgroupsPath: the container's cgroup under its parent, made if missing
    and left behind when the container goes, as dockerd leaves it. A relative parent
    is taken from the root of each hierarchy too (this daemon runs its containers
    from the top, not from below its own cgroup, as runc would)."""
    parent = host_config.get("CgroupParent") or default_parent
    return posixpath.normpath(posixpath.join("/", parent, cid))  # no ".." survives


# Where dockerd puts its init in every `--init` container, and the tini this daemon
# binds there (Debian's package `tini`: the static build, since an image may have no
# C library at all; docker.io's docker-init is the same program).
INIT_IN_CONTAINER = "/sbin/docker-init"
INIT_CANDIDATES = ("/usr/bin/tini-static", "/usr/bin/docker-init",
                   "/usr/libexec/docker/docker-init")


def init_binary() -> str:
    for path in INIT_CANDIDATES:
        if os.path.exists(path):
            return path
    found = shutil.which("docker-init")
    if found is None:
        raise SpecError("docker-init binary not found (install Debian's tini)")
    return found


def with_init(spec: dict) -> None:
    """`--init`: a real init as pid 1. The kernel gives pid 1 of a namespace no default
    signal actions (a SIGTERM it has no handler for is ignored) and hands it every
    orphan to reap; most programs do neither. tini does both: it forwards signals to
    the command, its one child, and reaps whatever else exits."""
    spec["process"]["args"] = [INIT_IN_CONTAINER, "--", *spec["process"]["args"]]
    spec["mounts"].append({"destination": INIT_IN_CONTAINER, "type": "bind",
                           "source": init_binary(), "options": ["bind", "ro"]})


def check_host_options(config: dict, host_config: dict) -> None:
    """The namespace modes, /dev/shm, --tmpfs, cpusets and cgroup parent of a create
    request: 400 (SpecError) with dockerd's words, before anything exists."""
    try:
        namespace_modes.check(host_config, config.get("Hostname") or "")
        tmpfs.check(host_config)
    except ValueError as e:
        raise SpecError(str(e)) from None


def build(
    cid: str,
    args: list[str],
    config: dict,
    host_config: dict,
    rootfs: str,
    user: User,
    cgroup_parent: str = DEFAULT_CGROUP_PARENT,
    extra_mounts: list[dict] | None = None,
    netns_path: str | None = None,
    interfaces: list[dict] | None = None,
    joined: dict[str, str] | None = None,
    shm_source: str | None = None,
) -> dict:
    """The whole runtime spec for one container's first process.

    `args` and `config` are the container's, already merged with its image at create
    (shared/daemon/containerconfig.py); here they are only translated, and the daemon
    adds what it decides at each start: the user's ids, HOSTNAME, TERM and HOME.
    `netns_path`: a network namespace the daemon made and set up (bridge networking);
    the executor joins it (setns) rather than making an empty one.
    `interfaces`: or, for an executor that makes them itself, the interfaces of the
    new namespace it makes (manager.Endpoint.plan), in INTERFACES_ANNOTATION.
    `joined`: namespace type -> the path of another container's, for `--pid` and
    `--ipc container:X`; `shm_source`: a host directory to bind as /dev/shm (tmpfs.py)."""
    if not args:
        raise SpecError("no command specified")
    spec = default_spec()
    tty = bool(config.get("Tty"))
    hostname = config.get("Hostname") or ""
    daemon_env = [f"HOSTNAME={hostname}", *(["TERM=xterm"] if tty else [])]
    env = merge_env(daemon_env, config.get("Env") or [])  # the container's own win
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={user.home}")

    process = spec["process"]
    process["args"] = list(args)
    process["env"] = env
    process["cwd"] = config.get("WorkingDir") or "/"
    process["terminal"] = tty
    process["user"] = {"uid": user.uid, "gid": user.gid}
    if user.additional_gids:
        process["user"]["additionalGids"] = list(user.additional_gids)
    size = host_config.get("ConsoleSize") or [0, 0]
    if tty and size and size[0] and size[1]:
        process["consoleSize"] = {"height": int(size[0]), "width": int(size[1])}

    spec["mounts"].extend(extra_mounts or [])
    try:
        tmpfs.apply(spec, host_config, shm_source)
    except ValueError as e:
        raise SpecError(str(e)) from None
    if host_config.get("Init"):
        with_init(spec)
    spec["root"] = {"path": rootfs, "readonly": bool(host_config.get("ReadonlyRootfs"))}
    spec["hostname"] = hostname
    if config.get("Domainname"):
        spec["domainname"] = config["Domainname"]  # the UTS namespace's NIS domain name
    linux = spec["linux"]
    linux["cgroupsPath"] = cgroups_path(cid, host_config, cgroup_parent)
    linux.setdefault("resources", {}).update(resources(host_config))
    try:
        # capabilities, no_new_privs, rlimits, sysctls, OOM, masked and read-only paths
        confine(spec, host_config)
    except confinement.ConfinementError as e:
        raise SpecError(str(e)) from None
    devices.apply(spec, host_config)  # --device, --device-cgroup-rule, --privileged's nodes

    network = host_config.get("NetworkMode") or "default"
    if network == "host":
        # The host's network stack and, as Docker does, the host's name with it.
        linux["namespaces"] = [n for n in linux["namespaces"] if n["type"] != "network"]
    elif netns_path:
        for n in linux["namespaces"]:
            if n["type"] == "network":
                n["path"] = netns_path
    namespace_modes.apply(linux, host_config, joined or {})
    if (host_config.get("UTSMode") or "") == "host":
        spec["hostname"] = ""  # the host's name stays, as dockerd leaves it
    spec["annotations"] = {
        **(host_config.get("Annotations") or {}),  # the user's, for the runtime
        "org.opencontainers.image.stopSignal": config.get("StopSignal") or "SIGTERM"}
    if interfaces and network != "host":
        spec["annotations"][INTERFACES_ANNOTATION] = json.dumps(interfaces)
    # Last: which of the profile's rules apply depends on the capabilities the
    # container ends up with (its bounding set), once everything above has set them.
    policy = seccomp_policy(host_config.get("SecurityOpt") or [],
                            process["capabilities"]["bounding"],
                            privileged=bool(host_config.get("Privileged")))
    if policy is not None:
        linux["seccomp"] = policy
    return spec


def planned_interfaces(spec: dict) -> list[dict]:
    """The interfaces the spec asks its executor to make (see `build`); [] if none."""
    return json.loads(spec.get("annotations", {}).get(INTERFACES_ANNOTATION) or "[]")


def confine(spec: dict, host_config: dict) -> None:
    """What the container's root may do (shared/oci/confinement.py): capabilities,
    no_new_privs, rlimits, sysctls, OOM settings, masked and read-only paths, and
    --privileged's writable /sys and cgroups."""
    process, linux = spec["process"], spec["linux"]
    caps = confinement.capabilities(host_config)
    process["capabilities"].update(
        bounding=list(caps), effective=list(caps), permitted=list(caps))
    options = confinement.security_options(host_config.get("SecurityOpt") or [])
    process["noNewPrivileges"] = options.get("no-new-privileges") == "true"
    limits = confinement.rlimits(host_config)
    if limits:
        process["rlimits"] = limits
    score = confinement.oom_score_adj(host_config)
    if score is not None:
        process["oomScoreAdj"] = score
    sysctl = confinement.sysctls(host_config)
    if sysctl:
        linux["sysctl"] = sysctl
    if confinement.oom_kill_disable(host_config, confinement.host_cgroup_version()):
        linux["resources"].setdefault("memory", {})["disableOOMKiller"] = True
    linux["maskedPaths"], linux["readonlyPaths"] = confinement.system_paths(host_config)
    if host_config.get("ReadonlyRootfs"):
        # --read-only: every mount read-only too (/etc/hosts...), but for those a
        # program must write to: /dev and its shm, mqueue and ptys, and /proc (moby).
        for mount in spec["mounts"]:
            if mount["destination"] not in ("/proc", "/dev", "/dev/pts", "/dev/shm",
                                            "/dev/mqueue") and "ro" not in mount["options"]:
                mount["options"] = [*mount["options"], "ro"]
    # The host's kernel knobs in /sys writable with --privileged, and the container's
    # own cgroups too unless `--security-opt writable-cgroups=false` (moby's
    # clearReadOnly on /sys and on the cgroup mount; writable-cgroups alone for those).
    privileged = bool(host_config.get("Privileged"))
    writable_cgroups = options.get("writable-cgroups", str(privileged).lower()) == "true"
    for mount in spec["mounts"]:
        if ((privileged and mount["destination"] == "/sys")
                or (writable_cgroups and mount.get("type") == "cgroup")):
            mount["options"] = [o for o in mount["options"] if o != "ro"]


def seccomp_policy(options: list[str], bounding: list[str],
                   privileged: bool = False) -> dict | None:
    """`--security-opt seccomp=...` -> the spec's `linux.seccomp`, or None for none.

    Docker's rules (moby's daemon/seccomp_linux.go): no option, or `seccomp=builtin`,
    is the default profile; `seccomp=unconfined` is no filter at all; anything else
    is a profile's JSON text, which the CLI read from the file named on its command
    line. The last `seccomp=` given wins. The rules that apply are those the
    container's bounding set and this host's kernel allow (shared/oci/seccomp.py).
    `--privileged` is unconfined unless a profile is given (moby's WithSeccomp: a
    privileged container with no seccomp= option, or `seccomp=builtin`, gets none).
    """
    chosen = "unconfined" if privileged else "builtin"
    for option in options:
        # `=` first, as dockerd splits: a profile's JSON has colons of its own.
        key, sep, arg = option.partition("=") if "=" in option else option.partition(":")
        if key == "seccomp" and sep:
            chosen = arg
    if chosen == "unconfined":
        return None
    try:
        profile = seccomp.load_default() if chosen == "builtin" else seccomp.parse(chosen)
        return seccomp.to_oci(profile, bounding)
    except seccomp.ProfileError as e:
        raise SpecError(str(e)) from None


def exec_process(base: dict, body: dict, user: User, container_env: list[str]) -> dict:
    """The OCI `process` for `docker exec`: the container's process, with the exec's
    command, env added on top, and its own user, cwd and terminal."""
    process = copy.deepcopy(base)
    process["args"] = list(body.get("Cmd") or [])
    if not process["args"]:
        raise SpecError("No exec command specified")
    process["env"] = merge_env(container_env, body.get("Env") or [])
    process["cwd"] = body.get("WorkingDir") or base.get("cwd") or "/"
    process["terminal"] = bool(body.get("Tty"))
    process["user"] = {"uid": user.uid, "gid": user.gid}
    if user.additional_gids:
        process["user"]["additionalGids"] = list(user.additional_gids)
    process.pop("consoleSize", None)
    if body.get("Privileged"):
        # `docker exec --privileged`: every capability for this process alone (moby's
        # exec_linux.go); the container's seccomp filter and masks stay.
        caps = confinement.supported_capabilities()
        process["capabilities"] = {"bounding": list(caps), "effective": list(caps),
                                   "permitted": list(caps), "inheritable": []}
    return process
