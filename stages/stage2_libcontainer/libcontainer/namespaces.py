"""Namespaces: what a container sees of the machine.

A namespace wraps one global resource so that the processes inside get their own
instance: their own pid numbers (pid), mount table (mount), hostname (uts), SysV IPC
(ipc), network stack (network), view of the cgroup tree (cgroup) and of the
monotonic and boot-time clocks (time). A container is, first of all, a process in a
fresh set of them.

unshare(2) moves the caller into new namespaces, except for pid and time: a process
keeps its pid (and its clocks) for life, so only its *next child* is born into the new
pid namespace, as pid 1, or into the new time namespace.
That is why making a container takes two forks (see init.py).
"""

from __future__ import annotations

import os

from stages.stage2_libcontainer.libcontainer.configs import Namespace
from stages.stage2_libcontainer.libcontainer.errors import step

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from stages.stage2_libcontainer.libcontainer.kernel import Kernel

CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# OCI namespace type -> clone flag, and the file under /proc/<pid>/ns/.
FLAGS = {
    "pid": CLONE_NEWPID,
    "network": CLONE_NEWNET,
    "mount": CLONE_NEWNS,
    "ipc": CLONE_NEWIPC,
    "uts": CLONE_NEWUTS,
    "cgroup": CLONE_NEWCGROUP,
    "user": CLONE_NEWUSER,
    "time": CLONE_NEWTIME,
}
PROC_NAMES = {
    "pid": "pid",
    "network": "net",
    "mount": "mnt",
    "ipc": "ipc",
    "uts": "uts",
    "cgroup": "cgroup",
    "user": "user",
    "time": "time",
}
# The order to join them in: the mount namespace last, because joining it changes
# what every later /proc path means.
JOIN_ORDER = ["user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount"]


def new_flags(namespaces: list[Namespace]) -> int:
    """The flags for every namespace the spec wants new (no `path` given)."""
    flags = 0
    for ns in namespaces:
        if not ns.path:
            flags |= FLAGS[ns.type]
    return flags


def join_paths(namespaces: list[Namespace]) -> list[tuple[str, str]]:
    """(type, path) for every namespace the spec wants joined, in a safe order."""
    given = {ns.type: ns.path for ns in namespaces if ns.path}
    return [(t, given[t]) for t in JOIN_ORDER if t in given]


def join(kernel: Kernel, namespaces: list[tuple[str, str]]) -> None:
    """setns(2) into each (type, path). All files are opened first: once the mount
    namespace changes, the paths may no longer resolve."""
    fds = []
    try:
        for t, path in namespaces:
            with step(f"open {t} namespace {path}"):
                fds.append((t, path, os.open(path, os.O_RDONLY | os.O_CLOEXEC)))
        for t, path, fd in fds:
            kernel.setns(fd, FLAGS[t], f"{t} ({path})")
    finally:
        for _, _, fd in fds:
            os.close(fd)


def of_process(pid: int, types: list[str]) -> list[tuple[str, str]]:
    """The namespaces of a running process that differ from ours, to join for exec."""
    result = []
    for t in JOIN_ORDER:
        if t not in types:
            continue
        theirs = f"/proc/{pid}/ns/{PROC_NAMES[t]}"
        ours = f"/proc/self/ns/{PROC_NAMES[t]}"
        try:
            if os.readlink(theirs) == os.readlink(ours):
                continue
        except OSError:
            pass
        result.append((t, theirs))
    return result


def set_time_offsets(offsets: dict[str, tuple[int, int]]) -> None:
    """linux.timeOffsets, written after unshare(CLONE_NEWTIME) and before the first
    child: the kernel takes the offsets only while no process is in the namespace yet
    (time_namespaces(7)). Inside, CLOCK_MONOTONIC and CLOCK_BOOTTIME read that much
    later than the host's; the wall clock (CLOCK_REALTIME) is never namespaced."""
    if not offsets:
        return
    text = "".join(f"{clock} {secs} {nanos}\n" for clock, (secs, nanos) in offsets.items())
    with step("write /proc/self/timens_offsets"):
        with open("/proc/self/timens_offsets", "w") as f:
            f.write(text)
