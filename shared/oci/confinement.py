"""How much of root a container's process keeps: capabilities, --privileged, rlimits,
sysctls, security options and the OOM killer, as HostConfig asks and moby decides.

Each function reads HostConfig and gives the part of the runtime spec it decides
(runtime_spec.build puts them together); `validate` runs them all once at create, so
that what cannot be applied is refused with Docker's 400 before anything exists.
The rules are moby's: daemon/pkg/oci/caps/utils.go (capabilities), daemon/oci_linux.go
(privileged, rlimits, sysctls, OOM score), daemon/daemon_unix.go (security options,
verifyPlatformContainerSettings), and runc's libcontainer/configs/validate (which
sysctls a container may set). Pure: no files but /proc/sys/kernel/cap_last_cap.
"""

from __future__ import annotations

import os
import re

from shared.oci.defaults import DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS


class ConfinementError(ValueError):
    """A HostConfig value Docker refuses (HTTP 400); the text is Docker's."""


# Every capability Linux has defined, in the kernel's numbering (capability.h). A
# kernel older than the name knows fewer: /proc/sys/kernel/cap_last_cap says how many.
CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]
ALL = "ALL"  # CapAdd/CapDrop's word for every capability


def supported_capabilities() -> list[str]:
    """The capabilities the daemon itself holds (its effective set): what
    `--privileged` or `--cap-add ALL` gives. No runtime can give a container one the
    daemon lacks (a daemon in a container, or this host, whose bounding set has no
    CAP_SYS_RESOURCE): moby asks containerd's cap.Current() the same, and refuses the
    others by name. If the set cannot be read, every capability this kernel has."""
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        bits = int(fields["CapEff"].strip(), 16)
        return [name for number, name in enumerate(CAPABILITIES) if bits >> number & 1]
    except (OSError, ValueError, KeyError):
        pass
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except (OSError, ValueError):
        last = len(CAPABILITIES) - 1
    return CAPABILITIES[:last + 1]


def normalize_capabilities(names: list[str], field: str) -> list[str]:
    """"sys_admin", "CAP_SYS_ADMIN", "Sys_Admin" -> "CAP_SYS_ADMIN"; "all" -> "ALL"
    (moby's NormalizeLegacyCapabilities, wrapped as validateCapabilities words it)."""
    supported = supported_capabilities()
    result = []
    for name in [names] if isinstance(names, str) else names:  # strslice: one or many
        cap = name.upper()
        if cap != ALL:
            cap = cap if cap.startswith("CAP_") else "CAP_" + cap
            if cap not in CAPABILITIES:
                raise ConfinementError(f'invalid {field}: unknown capability: "{cap}"')
            if cap not in supported:
                raise ConfinementError(
                    f"invalid {field}: capability not supported by your kernel or not "
                    f'available in the current environment: "{cap}"')
        result.append(cap)
    return result


def capabilities(host_config: dict) -> list[str]:
    """The container's capability set (bounding = effective = permitted), moby's
    TweakCapabilities: privileged takes every one; `--cap-add ALL` every one but the
    dropped; `--cap-drop ALL` only the added; otherwise the defaults, minus the
    dropped, plus the added (so `--cap-drop X --cap-add X` keeps X)."""
    if host_config.get("Privileged"):
        return supported_capabilities()
    adds = normalize_capabilities(host_config.get("CapAdd") or [], "CapAdd")
    drops = normalize_capabilities(host_config.get("CapDrop") or [], "CapDrop")
    if ALL in adds:
        caps = [c for c in supported_capabilities() if c not in drops]
    elif ALL in drops:
        caps = list(adds)
    else:
        caps = [c for c in DEFAULT_CAPABILITIES if c not in drops] + adds
    return list(dict.fromkeys(caps))  # once each, as the kernel's bit sets hold them


# --ulimit names (go-units' ulimitNameMapping). `as` is left out there too: Docker's
# init needs more address space than a useful limit leaves.
ULIMITS = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
           "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")


def rlimits(host_config: dict) -> list[dict]:
    """HostConfig.Ulimits -> process.rlimits, checked as go-units' ParseUlimit checks
    the CLI's `--ulimit nofile=soft:hard` (the daemon takes the API's as given, and
    the runtime's setrlimit fails at start: here it is refused at create). -1 is
    unlimited (RLIM_INFINITY)."""
    result = []
    for ulimit in host_config.get("Ulimits") or []:
        name = ulimit.get("Name") or ""
        if name not in ULIMITS:
            raise ConfinementError(f"invalid ulimit type: {name}")
        soft, hard = int(ulimit.get("Soft") or 0), int(ulimit.get("Hard") or 0)
        if hard != -1:
            if soft == -1:
                raise ConfinementError("ulimit soft limit must be less than or equal to "
                                       f"hard limit: soft: -1 (unlimited), hard: {hard}")
            if soft > hard:
                raise ConfinementError("ulimit soft limit must be less than or equal to "
                                       f"hard limit: {soft} > {hard}")
        if soft < -1 or hard < -1:
            raise ConfinementError(f"invalid ulimit value for {name}: {soft}:{hard}")
        result.append({"type": "RLIMIT_" + name.upper(),
                       "soft": rlim(soft), "hard": rlim(hard)})
    return result


def rlim(value: int) -> int:
    """-1 (Docker's unlimited) as the kernel's RLIM_INFINITY, an unsigned 64-bit all-ones."""
    return 2**64 - 1 if value == -1 else value


# The sysctls a container may set: those of a namespace it has of its own (runc's
# validator). The IPC namespace's (System V IPC and POSIX message queues)...
SYSCTL_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_@:+-]+)+")
IPC_SYSCTLS = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
               "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced")


def sysctls(host_config: dict) -> dict[str, str]:
    """HostConfig.Sysctls -> linux.sysctl. A sysctl outside the container's own
    namespaces would set the host's kernel (writing /proc/sys/kernel/panic in one
    container sets it for all): refused, with runc's words, at create."""
    result = {}
    network = host_config.get("NetworkMode") or "default"
    for key, value in (host_config.get("Sysctls") or {}).items():
        if not SYSCTL_NAME.fullmatch(key):  # a path under /proc/sys, and an LXC key
            raise ConfinementError(f'sysctl "{key}" is not in a separate kernel namespace')
        if key in IPC_SYSCTLS or key.startswith("fs.mqueue."):
            if host_config.get("IpcMode") == "host":
                raise ConfinementError(f'sysctl "{key}" is not allowed in the hosts ipc '
                                       "namespace")
        elif key.startswith("net."):
            # ...the network namespace's (every net.*, unless the host's network)...
            if network == "host":
                raise ConfinementError(f'sysctl "{key}" not allowed in host network '
                                       "namespace")
        elif key == "kernel.domainname" and host_config.get("UTSMode") != "host":
            pass  # ...and the UTS namespace's domain name.
        elif key == "kernel.hostname":
            raise ConfinementError('sysctl "kernel.hostname" is not allowed; the hostname '
                                   "can only be configured in the config.json")
        else:
            raise ConfinementError(f'sysctl "{key}" is not in a separate kernel namespace')
        if "\0" in str(value) or "\n" in str(value):
            raise ConfinementError(f'sysctl "{key}": invalid value {value!r}')
        result[key] = str(value)
    return result


def security_options(options: list[str]) -> dict[str, str]:
    """`--security-opt` as dockerd's parseSecurityOpt reads it: key -> value, the last
    given winning; a bare `no-new-privileges` means true. `seccomp=` is read by
    runtime_spec.seccomp_policy.

    `apparmor=` and `label=`: this host's kernel has neither AppArmor nor SELinux
    enabled, and there dockerd takes both and applies nothing (WithApparmor sets no
    profile when appArmorSupported() is false; SELinux labels are no-ops while SELinux
    is off). This project does the same, as Docker on such a host does; a daemon on
    a host with either enabled would have to apply them or refuse them.
    `systempaths=unconfined` is not an option of the daemon's: docker's CLI turns it
    into empty HostConfig.MaskedPaths and ReadonlyPaths (see masked_paths); dockerd
    refuses it here, as does this function.
    """
    parsed: dict[str, str] = {}
    for option in options:
        if option in ("no-new-privileges", "writable-cgroups"):
            parsed[option] = "true"
            continue
        if "=" in option:
            key, _, value = option.partition("=")
        elif ":" in option:  # the pre-17.04 separator, still taken
            key, _, value = option.partition(":")
        else:
            raise ConfinementError(f'invalid --security-opt 1: "{option}"')
        if key in ("no-new-privileges", "writable-cgroups"):
            if value.lower() not in GO_BOOLS:
                raise ConfinementError(f'invalid --security-opt 2: "{option}"')
            value = str(value.lower() in GO_TRUE).lower()
        elif key not in ("label", "apparmor", "seccomp"):
            raise ConfinementError(f'invalid --security-opt 2: "{option}"')
        parsed[key] = value
    return parsed


# strconv.ParseBool's words (it takes these cases only; lower() is close enough: it
# also takes "tRUE", which Go does not, and nothing Go takes is refused).
GO_TRUE = ("1", "t", "true")
GO_BOOLS = (*GO_TRUE, "0", "f", "false")


def no_new_privileges(options: list[str]) -> bool:
    """`--security-opt no-new-privileges[=true|false]`: off unless asked, as Docker's."""
    return security_options(options).get("no-new-privileges") == "true"


def oom_kill_disable(host_config: dict, cgroup_version: int) -> bool:
    """`--oom-kill-disable`: cgroup v1's memory.oom_control, which makes a container
    at its memory limit wait for memory instead of losing a process to the OOM killer.

    cgroup v2 has no such knob. dockerd there returns a warning ("Your kernel does not
    support OomKillDisable. OomKillDisable discarded.") and goes on without it, while
    inspect still shows OomKillDisable: true. This project never takes an option it
    does not apply, and a warning is easily missed while the inspected value lies:
    so on v2 the create is refused, with Docker's reason."""
    wanted = bool(host_config.get("OomKillDisable"))
    if wanted and cgroup_version == 2:
        raise ConfinementError("Your kernel does not support OomKillDisable (cgroup v2 "
                               "has no memory.oom_control): refused rather than discarded")
    return wanted


def oom_score_adj(host_config: dict) -> int | None:
    """`--oom-score-adj`: how readily the OOM killer picks the container's processes."""
    score = int(host_config.get("OomScoreAdj") or 0)
    if not -1000 <= score <= 1000:
        raise ConfinementError(f"Invalid value {score}, range for oom score adj is "
                               "[-1000, 1000]")
    return score or None


def system_paths(host_config: dict) -> tuple[list[str], list[str]]:
    """The paths to mask and to make read-only: none with --privileged (moby clears
    both), else HostConfig's own lists when given (API-only fields, which replace
    Docker's as in dockerd; docker's CLI sends them empty for `--security-opt
    systempaths=unconfined`), else Docker's (defaults.py)."""
    if host_config.get("Privileged"):
        return [], []
    masked, readonly = host_config.get("MaskedPaths"), host_config.get("ReadonlyPaths")
    return (list(MASKED_PATHS if masked is None else masked),
            list(READONLY_PATHS if readonly is None else readonly))


def host_cgroup_version() -> int:
    """2 on a host whose cgroups are all v2 (one tree at /sys/fs/cgroup), else 1."""
    return 2 if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else 1


def validate(host_config: dict) -> None:
    """Everything above, at create: Docker's 400 now rather than a failed start.
    (Capability names are checked even with --privileged, which ignores them: moby's
    validateCapabilities does so.)"""
    normalize_capabilities(host_config.get("CapAdd") or [], "CapAdd")
    normalize_capabilities(host_config.get("CapDrop") or [], "CapDrop")
    system_paths(host_config)
    rlimits(host_config)
    sysctls(host_config)
    security_options(host_config.get("SecurityOpt") or [])
    oom_kill_disable(host_config, host_cgroup_version())
    oom_score_adj(host_config)
