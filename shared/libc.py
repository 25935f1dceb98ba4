"""The C library, for the few kernel calls Python's standard library does not wrap.

Python 3.11 has no os.mount, os.unshare, os.setns or prctl: the daemon (snapshots,
network namespaces), libcontainer and the shim call glibc's wrappers through ctypes,
all through this one handle. `use_errno=True` makes ctypes save errno right after each
call, before the interpreter's own work can overwrite it; `ctypes.get_errno()` reads
that saved copy.
"""

from __future__ import annotations

import ctypes
import errno
import os

# dlopen(NULL): the C library the interpreter itself is linked against, already loaded.
libc = ctypes.CDLL(None, use_errno=True)

PR_SET_CHILD_SUBREAPER = 36  # prctl(2)


def check(result: int, operation: str) -> int:
    """Raise an OSError naming the operation if a libc call failed (returned -1):
    `mount overlay on /x/rootfs: EPERM (Operation not permitted)`."""
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{operation}: {errno.errorcode.get(err, err)} ({os.strerror(err)})")
    return result


def set_child_subreaper(on: bool = True) -> None:
    """Adopt the orphans among our descendants.

    A container's init is forked by a process that exits at once (only a process's
    next child lands in a new pid namespace, so whoever unshares it must fork and
    leave). The orphaned init would go to the host's init, out of reach of our
    waitpid: a child subreaper gets it instead, as runc, containerd (stage 3), the
    shim (stage 4) and the daemon of stage 2 need, to wait for it and read its status.
    """
    # prctl's arguments are unsigned longs: say so, or ctypes passes 32-bit ints.
    flag, zero = ctypes.c_ulong(int(on)), ctypes.c_ulong(0)
    check(libc.prctl(PR_SET_CHILD_SUBREAPER, flag, zero, zero, zero),
          "prctl(PR_SET_CHILD_SUBREAPER)")
