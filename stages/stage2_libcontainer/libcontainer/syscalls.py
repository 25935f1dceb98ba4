"""The kernel calls Python's standard library does not wrap (3.11 has no os.unshare).

Each wrapper raises an OSError (errors.SyscallError) naming the operation and its
arguments, because "Operation not permitted" alone tells nobody which of forty mounts
failed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

from shared.libc import libc
from stages.stage2_libcontainer.libcontainer.errors import os_error

# glibc has no wrappers for these; the numbers differ by architecture.
_SYSCALLS = {
    "x86_64": {"pivot_root": 155, "capset": 126, "capget": 125, "sched_setattr": 314,
               "ioprio_set": 251, "rt_sigaction": 13, "seccomp": 317},
    "aarch64": {"pivot_root": 41, "capset": 91, "capget": 90, "sched_setattr": 274,
                "ioprio_set": 30, "rt_sigaction": 134, "seccomp": 277},
}
_NR = _SYSCALLS.get(os.uname().machine, _SYSCALLS["x86_64"])

# mount(2) flags
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MNT_DETACH = 2

# prctl(2) options
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2


def _check(result: int, operation: str) -> int:
    if result == -1:
        raise os_error(operation, ctypes.get_errno())
    return result


def unshare(flags: int) -> None:
    _check(libc.unshare(ctypes.c_int(flags)), f"unshare({flags:#x})")


def setns(fd: int, nstype: int, what: str) -> None:
    _check(libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), f"setns {what}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    if flags & MS_REMOUNT:
        what = f"remount {target}"
    elif flags & (MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE) and source is None:
        what = f"set propagation of {target}"
    else:
        what = f"mount {source or fstype} on {target}"
    _check(
        libc.mount(
            source.encode() if source is not None else None,
            target.encode(),
            fstype.encode() if fstype is not None else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"{what} (flags {flags:#x}{', ' + data if data else ''})",
    )


def umount2(target: str, flags: int = 0) -> None:
    _check(libc.umount2(target.encode(), ctypes.c_int(flags)), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    _check(
        libc.syscall(_NR["pivot_root"], new_root.encode(), put_old.encode()),
        f"pivot_root {new_root}",
    )


def prctl(option: int, arg2: int = 0, arg3: int = 0, what: str = "") -> int:
    return _check(
        libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), ctypes.c_ulong(arg3),
                   ctypes.c_ulong(0), ctypes.c_ulong(0)),
        f"prctl({option}) {what}".strip(),
    )


_CAP_V3 = 0x20080522


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set this thread's capability sets (64-bit masks), capset(2) version 3."""
    header = struct.pack("Ii", _CAP_V3, 0)
    data = struct.pack(
        "IIIIII",
        effective & 0xFFFFFFFF, permitted & 0xFFFFFFFF, inheritable & 0xFFFFFFFF,
        effective >> 32, permitted >> 32, inheritable >> 32,
    )
    hbuf = ctypes.create_string_buffer(header, len(header))
    dbuf = ctypes.create_string_buffer(data, len(data))
    _check(libc.syscall(_NR["capset"], hbuf, dbuf), "capset")


def sched_setattr(policy: int, flags: int, nice: int, priority: int, runtime: int,
                  deadline: int, period: int) -> None:
    """This process's scheduling: struct sched_attr, its first version (48 bytes)."""
    attr = struct.pack("IIQiIQQQ", 48, policy, flags, nice, priority, runtime, deadline,
                       period)
    buf = ctypes.create_string_buffer(attr, len(attr))
    _check(libc.syscall(_NR["sched_setattr"], 0, buf, 0), f"sched_setattr (policy {policy})")


def ioprio_set(which: int, who: int, ioprio: int) -> None:
    _check(libc.syscall(_NR["ioprio_set"], which, who, ioprio), f"ioprio_set({ioprio:#x})")


def default_action(sig: int) -> None:
    """rt_sigaction(sig, SIG_DFL), straight to the kernel: glibc's sigaction() (and
    so Python's signal.signal) refuses 32 and 33, which glibc keeps for its threads,
    yet a process above us may have left them ignored, and ignored they would stay in
    the container's program."""
    default = ctypes.create_string_buffer(32)  # struct sigaction, all zero: SIG_DFL,
    # no flags, an empty mask; 8 is the size of the kernel's signal set
    _check(libc.syscall(_NR["rt_sigaction"], sig, default, None, 8),
           f"rt_sigaction({sig}, SIG_DFL)")


SECCOMP_SET_MODE_FILTER = 1


class _SockFprog(ctypes.Structure):
    """struct sock_fprog: a BPF program, as its number of 8-byte instructions and
    where they are."""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def seccomp_set_mode_filter(flags: int, program: bytes) -> None:
    """seccomp(SECCOMP_SET_MODE_FILTER, flags, program): the kernel checks the BPF
    program (every jump forward, every path ending in a return) and attaches it to this
    thread, to run before each of its system calls and those of every process it
    starts. glibc has no wrapper for seccomp(2); prctl(PR_SET_SECCOMP) is the older
    door, without the flags."""
    count = len(program) // 8
    operation = f"seccomp(SECCOMP_SET_MODE_FILTER, flags {flags:#x}, {count} instructions)"
    if count > 0xFFFF:
        # The count is 16 bits wide: 70000 would reach the kernel as 4464, and the
        # kernel would check and load the first 4464 instructions of a longer filter.
        raise os_error(operation, errno.EINVAL)
    code = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(count, ctypes.cast(code, ctypes.c_void_p))
    _check(libc.syscall(_NR["seccomp"], SECCOMP_SET_MODE_FILTER, flags, ctypes.byref(prog)),
           operation)


def personality(persona: int) -> None:
    _check(libc.personality(ctypes.c_ulong(persona)), f"personality({persona:#x})")
