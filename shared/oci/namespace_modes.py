"""`--pid`, `--ipc`, `--uts` and `--cgroupns`: which namespaces a container shares.

By default a container gets a new instance of each namespace (shared/oci/defaults.py).
These HostConfig modes change that, one namespace type at a time:

    host           no new namespace: the container sees the host's processes (pid),
                   SysV IPC and /dev/shm (ipc), hostname (uts) or cgroup tree (cgroupns)
    container:X    join X's namespace, by the path of its init's: /proc/<pid>/ns/<type>
                   (pid and ipc only; X must be running, looked up at each start)
    private        a new one (ipc's and cgroupns' explicit default)
    shareable      ipc: a new one, whose /dev/shm others may join (the daemon mounts it
                   on the host so that a joiner can bind the same tmpfs: shm.py)
    none           ipc: a new one and no /dev/shm at all

The words and their errors are dockerd's (moby's api/types/container/hostconfig.go,
daemon/oci_linux.go WithNamespaces, runconfig/hostconfig_unix.go).
"""

from __future__ import annotations

IPC_MODES = ("", "private", "shareable", "host", "none")


class ModeError(ValueError):
    """A mode dockerd refuses (HTTP 400); the text is dockerd's."""


def joined(mode: str) -> str | None:
    """`container:X` -> X; None for any other mode."""
    kind, sep, name = (mode or "").partition(":")
    return name if kind == "container" and sep else None


def check(host_config: dict, hostname: str) -> None:
    """The modes of a create request, refused as dockerd refuses them (at create)."""
    pid = host_config.get("PidMode") or ""
    if pid not in ("", "host") and not joined(pid):
        raise ModeError(f"invalid PID mode: {pid}")
    ipc = host_config.get("IpcMode") or ""
    if ipc not in IPC_MODES and not joined(ipc):
        raise ModeError(f"invalid IPC mode: {ipc}")
    uts = host_config.get("UTSMode") or ""
    if uts not in ("", "host"):
        raise ModeError(f"invalid UTS mode: {uts}")
    if uts == "host" and hostname:
        raise ModeError("conflicting options: hostname and the UTS mode")
    cgroupns = host_config.get("CgroupnsMode") or ""
    if cgroupns not in ("", "host", "private"):
        raise ModeError(f"invalid cgroup namespace mode: {cgroupns}")


# The daemon's default-cgroupns-mode. dockerd's is private on a pure cgroup v2 host
# and host on v1 and hybrid ones (where runc then binds the container's own cgroup
# directories over /sys/fs/cgroup); this daemon's is private everywhere, as
# `dockerd --default-cgroupns-mode private`: a container's /proc/self/cgroup and
# /sys/fs/cgroup show its own cgroup as the root, not where the host put it.
DEFAULT_CGROUPNS = "private"
DEFAULT_IPC = "private"  # dockerd's default-ipc-mode since 20.10
DEFAULT_SHM_SIZE = 64 * 1024 * 1024  # dockerd's default-shm-size, in bytes


def fill_defaults(host_config: dict) -> None:
    """What dockerd writes into an unset mode at create, so that inspect shows it."""
    host_config["IpcMode"] = host_config.get("IpcMode") or DEFAULT_IPC
    host_config["CgroupnsMode"] = host_config.get("CgroupnsMode") or DEFAULT_CGROUPNS
    host_config["ShmSize"] = int(host_config.get("ShmSize") or 0) or DEFAULT_SHM_SIZE


def apply(linux: dict, host_config: dict, paths: dict[str, str]) -> None:
    """Each namespace in linux.namespaces as the modes say. `paths`: for a type joined
    from another container (`container:X`), the path of X's namespace, which the
    daemon found at this start (pid, ipc)."""
    spaces = {n["type"]: n for n in linux["namespaces"]}
    modes = {
        "pid": host_config.get("PidMode") or "",
        "ipc": host_config.get("IpcMode") or "",
        "uts": host_config.get("UTSMode") or "",
        "cgroup": host_config.get("CgroupnsMode") or DEFAULT_CGROUPNS,
    }
    for kind, mode in modes.items():
        if mode == "host":
            spaces.pop(kind, None)
        elif kind in paths:
            spaces[kind] = {"type": kind, "path": paths[kind]}
        else:
            spaces.setdefault(kind, {"type": kind})
    order = [n["type"] for n in linux["namespaces"]]
    linux["namespaces"] = [spaces[t] for t in order if t in spaces]
