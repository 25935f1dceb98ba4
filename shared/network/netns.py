"""Network namespaces the daemon makes itself, kept alive by a bind mount.

A namespace lives as long as something refers to it: a process in it, an open file
descriptor, or a bind mount of its /proc/<pid>/ns/net file. The daemon makes the
namespace *before* the container exists (it must plug the veth and set addresses in
it), so it pins it with a bind mount on a file under the exec root, as `ip netns add`
does under /run/netns. The OCI spec then names that file (`{"type": "network",
"path": ...}`) and the executors of stages 2 to 4 setns(2) into it instead of making
a new one. Stage 1's LXC makes the namespace itself, from the daemon's plan (see
manager.py); the daemon pins that one once the container's init is in it (`pin`), so
that from then on a sandbox is a file at the same path in every era.

unshare(2) and setns(2) change the namespace of the calling *thread* only, so the
daemon does both in a short-lived thread of its own: its other threads (the API, the
containers' waiters) never leave the host's namespace, and a thread that failed half
way dies with its namespace instead of serving a request from inside a container.
"""

from __future__ import annotations

import ctypes
import errno
import os
import threading
from collections.abc import Callable
from typing import TypeVar

from shared.libc import check, libc

CLONE_NEWNET = 0x40000000
MS_BIND = 0x1000
MNT_DETACH = 0x2

T = TypeVar("T")


def in_thread(fn: Callable[[], T]) -> T:
    """Run fn in a new thread (which may then change its namespaces) and return its
    result or raise its exception."""
    values: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            values.append(fn())
        except BaseException as e:  # handed to the caller
            errors.append(e)

    t = threading.Thread(target=run, name="netns")
    t.start()
    t.join()
    if errors:
        raise errors[0]
    return values[0]


def _bind(source: str, path: str) -> None:
    """Bind-mount a namespace file (/proc/.../ns/net) on `path`: the pin."""
    check(libc.mount(source.encode(), path.encode(), None, MS_BIND, None),
          f"bind mount the network namespace of {source} on {path}")


def _pin_file(path: str, bind: Callable[[], None]) -> None:
    """Make the empty file a pin is mounted on, then `bind`; no file left if it fails."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "x"):
        pass
    try:
        bind()
    except BaseException:
        os.unlink(path)
        raise


def create(path: str) -> None:
    """A new, empty network namespace (only `lo`, down), pinned at `path`."""

    def make() -> None:
        check(libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        _bind("/proc/thread-self/ns/net", path)

    _pin_file(path, lambda: in_thread(make))


def pin(pid: int, path: str) -> None:
    """Pin at `path` the network namespace process `pid` is in: one that someone else
    made (stage 1: LXC, when it cloned the container's init).

    Refuses the host's own namespace (a process that did not get one of its own):
    everything later done "inside the container" by path would land on the host's
    interfaces."""
    source = f"/proc/{pid}/ns/net"
    if os.stat(source).st_ino == os.stat("/proc/self/ns/net").st_ino:
        raise OSError(errno.EINVAL, f"process {pid} is in the host's network namespace")
    _pin_file(path, lambda: _bind(source, path))


def remove(path: str) -> None:
    """Unpin the namespace; the kernel frees it (and the interfaces in it, a veth's
    peer too) once no process is left in it. A missing path is not an error."""
    result = libc.umount2(path.encode(), MNT_DETACH)
    if result != 0 and ctypes.get_errno() not in (errno.EINVAL, errno.ENOENT):
        check(result, f"umount {path}")
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def run_in(path: str, fn: Callable[[], T]) -> T:
    """Call fn in a thread that has joined the namespace pinned at `path`; the thread
    checks it really is there before anything runs (so nothing meant for a container
    can ever land on the host's interfaces)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)

    def inside() -> T:
        check(libc.setns(fd, CLONE_NEWNET), f"setns into {path}")
        if os.stat("/proc/thread-self/ns/net").st_ino != os.fstat(fd).st_ino:
            raise OSError(errno.EINVAL, f"setns into {path} did not take")
        return fn()

    try:
        return in_thread(inside)
    finally:
        os.close(fd)
