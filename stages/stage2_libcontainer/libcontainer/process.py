"""The last steps before the container's program runs: who it is, and what it may do.

Order matters, and it is the kernel's order, not a style choice:
1. drop capabilities from the bounding set (needs CAP_SETPCAP, which we still have);
2. switch groups and user (needs CAP_SETGID/CAP_SETUID; leaving uid 0 would clear
   every capability set, so PR_SET_KEEPCAPS is on across setuid);
3. set the remaining capability sets (effective, permitted, inheritable, ambient);
4. no_new_privs, so no setuid binary can ever give back what was taken;
5. execve, with the path looked up in the container's own PATH.
Init loads the seccomp filter around these steps, at runc's moment (see
init._prepare_process): after 4, or before 1 when there is no no_new_privs.
"""

from __future__ import annotations

import resource

from shared.oci import lookpath
from stages.stage2_libcontainer.libcontainer import capabilities, syscalls
from stages.stage2_libcontainer.libcontainer.configs import Process, Rlimit
from stages.stage2_libcontainer.libcontainer.errors import ContainerError, step

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:  # (`runc update` loads this module, and not kernel's socket)
    from stages.stage2_libcontainer.libcontainer.kernel import Kernel

RLIMITS = {name: getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_")}


def environment(process: Process) -> dict[str, str]:
    env = {}
    for entry in process.env:
        key, _, value = entry.partition("=")
        env[key] = value
    return env


def look_path(name: str, env: dict[str, str]) -> str:
    """Find the program as execvp would (shared/oci/lookpath.py), with runc's messages."""
    try:
        return lookpath.look_path(name, env.get("PATH", lookpath.DEFAULT_PATH))
    except lookpath.LookPathError as e:
        raise ContainerError(str(e)) from None


def set_rlimits(kernel: Kernel, rlimits: list[Rlimit]) -> None:
    for limit in rlimits:
        with step(f"setrlimit {limit.type}"):
            kernel.setrlimit(RLIMITS[limit.type], _rlim(limit.soft), _rlim(limit.hard))


def _rlim(value: int) -> int:
    """The spec's unlimited is the kernel's RLIM_INFINITY, an unsigned 64-bit all-ones
    (what Docker sends for -1); Python's resource module says it as -1."""
    return resource.RLIM_INFINITY if value >= 2**64 - 1 or value == -1 else value


def set_oom_score_adj(kernel: Kernel, process: Process) -> None:
    """Lowering it needs CAP_SYS_RESOURCE of the host's user namespace: the
    intermediate process does it first, while still host root (as runc's nsexec, before
    any user namespace), and the kernel then lets its children write the same value
    again (oom_score_adj_min, proc(5))."""
    if process.oom_score_adj is not None:
        with step("write /proc/self/oom_score_adj"):
            kernel.write_file("/proc/self/oom_score_adj", str(process.oom_score_adj))


def become(kernel: Kernel, process: Process) -> None:
    """Steps 1 to 4 above."""
    set_oom_score_adj(kernel, process)  # before setuid, while root
    caps = process.capabilities
    if caps is not None:
        capabilities.drop_bounding(kernel, capabilities.mask(caps.bounding))
    user = process.user
    if caps is not None:
        # Leaving uid 0 clears every capability set, unless we ask to keep them.
        kernel.prctl(syscalls.PR_SET_KEEPCAPS, 1, what="keep capabilities")
    with step(f"set user {user.uid}:{user.gid} (groups {user.additional_gids})"):
        kernel.setgroups(user.additional_gids)
        kernel.setgid(user.gid)
        kernel.setuid(user.uid)
    if caps is not None:
        kernel.prctl(syscalls.PR_SET_KEEPCAPS, 0, what="keep capabilities")
        capabilities.apply(kernel, caps)
    if process.no_new_privileges:
        kernel.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1, what="no_new_privs")
