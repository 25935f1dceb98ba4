"""At each start: the namespaces a container borrows (`--pid`/`--ipc container:X`) and
the /dev/shm it shares (`--ipc shareable`, `host`, `container:X`).

A namespace is joined through its file under /proc/<pid>/ns/ of a process in it: X's
init, found now, since X may have restarted with another pid since the create (or
stopped, which dockerd refuses with its own words).

POSIX shared memory is files in /dev/shm, which a namespace does not carry: a
container that joins X's IPC namespace also needs X's /dev/shm. So a `shareable`
container's /dev/shm is a tmpfs the daemon mounts on the host, under the container's
runtime directory, and binds into the container; a joiner binds the same one (a bind
mount cannot be taken from another mount namespace, such as X's own). It is unmounted
when X stops (a joiner's bind keeps the tmpfs alive while it needs it). The rules are
dockerd's (daemon/container_operations_unix.go setupIpcDirs, getIpcContainer).
"""

from __future__ import annotations

import contextlib
import errno
import os

from shared.daemon.state import Container
from shared.errors import Conflict, InvalidParameter, NotFound
from shared.libc import check, libc
from shared.oci import namespace_modes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8


def shm_dir(exec_dir: str) -> str:
    return os.path.join(exec_dir, "shm")


def borrowed(c: Container, lookup: Callable[[str], Container]) -> dict[str, str]:
    """type -> /proc/<pid>/ns/<type> of the container each `container:X` mode names."""
    paths: dict[str, str] = {}
    pid_target = namespace_modes.joined(c.host_config.get("PidMode") or "")
    if pid_target is not None:
        try:
            target = lookup(pid_target)
        except NotFound as e:
            raise NotFound(f"cannot join PID of a non running container: {pid_target}: "
                           f"{e}") from None
        _running(c, target, "PID")
        paths["pid"] = f"/proc/{target.state.pid}/ns/pid"
    ipc_target = ipc_donor(c, lookup)
    if ipc_target is not None:
        paths["ipc"] = f"/proc/{ipc_target.state.pid}/ns/ipc"
    return paths


def _running(c: Container, target: Container, what: str) -> None:
    if target.id == c.id:
        raise InvalidParameter(f"cannot join own {what} namespace")
    if not target.state.running or not target.state.pid:
        raise Conflict(f"container {target.id} is not running")


def ipc_donor(c: Container, lookup: Callable[[str], Container]) -> Container | None:
    """The running, shareable container whose IPC `c` joins; None in other modes."""
    name = namespace_modes.joined(c.host_config.get("IpcMode") or "")
    if name is None:
        return None
    message = f"can't join IPC of container {name}"
    try:
        target = lookup(name)
    except NotFound as e:
        raise NotFound(f"{message}: {e}") from None
    try:
        _running(c, target, "IPC")
    except Conflict as e:
        raise Conflict(f"{message}: {e}") from None
    mode = target.host_config.get("IpcMode") or ""
    if mode not in ("shareable", "host"):
        raise Conflict(f"{message}: non-shareable IPC (hint: use IpcMode:shareable for "
                       "the donor container)")
    return target


def shm_source(c: Container, exec_dir: Callable[[Container], str],
               lookup: Callable[[str], Container]) -> str | None:
    """The host directory to bind as the container's /dev/shm, mounting the tmpfs of
    a shareable one now; None for a /dev/shm of its own (private) or none at all."""
    mode = c.host_config.get("IpcMode") or ""
    if mode == "host":
        return "/dev/shm"
    donor = ipc_donor(c, lookup)
    if donor is not None:
        return "/dev/shm" if donor.host_config.get("IpcMode") == "host" \
            else shm_dir(exec_dir(donor))
    if mode != "shareable":
        return None
    os.makedirs(exec_dir(c), mode=0o700, exist_ok=True)  # root's alone, as stdio makes it
    path = shm_dir(exec_dir(c))
    os.makedirs(path, mode=0o700, exist_ok=True)
    size = int(c.host_config.get("ShmSize") or 0) or namespace_modes.DEFAULT_SHM_SIZE
    check(libc.mount(b"shm", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     f"mode=1777,size={size}".encode()), f"mount shm tmpfs on {path}")
    return path


def release_shm(exec_dir: str) -> None:
    """Unmount a shareable /dev/shm, if this container had one (idempotent)."""
    path = shm_dir(exec_dir)
    with contextlib.suppress(FileNotFoundError):
        try:
            check(libc.umount2(path.encode(), 0), f"umount {path}")
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOENT):
                raise
        os.rmdir(path)
