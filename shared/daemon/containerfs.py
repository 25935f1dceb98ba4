"""Reaching a container's files from the daemon: `docker cp`, `diff` and `export`.

A running container's files are where its own processes see them: `/proc/<pid>/root`
is its init's root directory, in its own mount namespace, so the volumes and binds
mounted there are seen as the container sees them. Opened once as a descriptor, it
stays that container's root even if the path string would later name another.

A stopped container has no mount namespace: the daemon mounts the overlay of its
layers on a private temporary directory, binds the container's own mounts (volumes,
binds, its /etc/hosts...) onto it as Docker's openContainerFS does, and takes it all
down afterwards (one lazy, recursive unmount).

`mounts_of` is the seam between the container's spec and this module: the bind mounts
of the spec the engine built for the container's last start, or would build now.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.images import snapshots
from shared.libc import check, libc
from shared.securejoin import O_PATH, open_beneath

if TYPE_CHECKING:
    from shared.daemon.engine import Engine
    from shared.daemon.state import Container

MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
MOUNTS_FILE = "mounts.json"  # the last start's bind mounts, beside the container's record


@dataclass(frozen=True)
class BindMount:
    """One bind of a host path into the container (a volume's, a bind's, /etc/hosts)."""

    destination: str
    source: str
    readonly: bool


def bind_mounts(spec_mounts: list[dict]) -> list[BindMount]:
    """The bind mounts among an OCI spec's mounts: what Docker binds onto a stopped
    container's root for `docker cp` (daemon.setupMounts: volumes, binds, the network
    files). Kernel filesystems (proc, sysfs, tmpfs, mqueue) are the container's only
    while it runs and are not part of its files."""
    binds = []
    for m in spec_mounts:
        options = m.get("options") or []
        if m.get("type") != "bind" and "bind" not in options and "rbind" not in options:
            continue
        binds.append(BindMount(destination=m["destination"], source=m["source"],
                               readonly="ro" in options))
    return binds


def save_mounts(container_dir: str, spec: dict) -> None:
    """Keep a start's bind mounts for the copies made once the container has stopped."""
    binds = [b.__dict__ for b in bind_mounts(spec.get("mounts") or [])]
    tmp = os.path.join(container_dir, f".{MOUNTS_FILE}")
    with open(tmp, "w") as f:
        json.dump(binds, f)
    os.replace(tmp, os.path.join(container_dir, MOUNTS_FILE))


def mounts_of(engine: Engine, c: Container) -> list[BindMount]:
    """The container's bind mounts: its running spec's, else its last start's."""
    live = engine.live(c.id)
    if live is not None:
        return bind_mounts(live.spec.get("mounts") or [])
    try:
        with open(os.path.join(engine.containers.dir(c.id), MOUNTS_FILE)) as f:
            return [BindMount(**b) for b in json.load(f)]
    except FileNotFoundError:
        return []  # never started: nothing of its own is mounted yet


@dataclass
class ContainerRoot:
    """A held descriptor of a container's `/`, and the binds seen under it."""

    fd: int
    binds: list[BindMount]


# One lock per container, held while the daemon has a stopped container's layers
# mounted for a copy, and by a start from its rootfs mount to its "running": a copy
# never sees a container half started, and a start waits for a copy of the stopped
# container to end (as moby's container lock makes them wait for each other); two
# overlay mounts of one upper dir at once are what overlayfs calls undefined.
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def files_lock(cid: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(cid, threading.Lock())


def forget(cid: str) -> None:
    """The container is removed: its lock goes."""
    with _locks_guard:
        _locks.pop(cid, None)


@contextlib.contextmanager
def open_root(engine: Engine, c: Container) -> Iterator[ContainerRoot]:
    """The container's root as its processes see it (running), or as the daemon mounts
    it (stopped); released on leaving the block."""
    lock = files_lock(c.id)
    with lock:
        binds = mounts_of(engine, c)
        pid = c.state.pid if c.state.running else 0
        fd = -1
        if pid:
            fd = os.open(f"/proc/{pid}/root", O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            # The pid could have been reused between reading it and opening its root:
            # the container must still be the one running with it.
            if not (c.state.running and c.state.pid == pid):
                os.close(fd)
                fd = -1
        if fd < 0:
            # Stopped: the lock stays held while its layers are mounted for the copy.
            with _mounted(engine, c, binds) as path:
                fd = os.open(path, O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
                try:
                    yield ContainerRoot(fd, binds)
                finally:
                    os.close(fd)
            return
    try:
        yield ContainerRoot(fd, binds)  # running: the held root is its own
    finally:
        os.close(fd)


@contextlib.contextmanager
def mounted(engine: Engine, c: Container) -> Iterator[str]:
    """The container's own layers (no binds: moby exports the container's layer
    without its mounts), mounted while the block runs, under the container's lock."""
    with files_lock(c.id), _mounted(engine, c, []) as path:
        yield path


@contextlib.contextmanager
def _mounted(engine: Engine, c: Container, binds: list[BindMount]) -> Iterator[str]:
    """The overlay of the container's layers mounted on a fresh private directory, with
    `binds` bound on it; everything unmounted (lazily, recursively) and the directory
    removed on leaving the block."""
    target = os.path.join(engine.exec_root, f"fs-{c.id[:12]}-{secrets.token_hex(4)}")
    os.makedirs(target, mode=0o700)
    try:
        image = engine.images.resolve(c.image_id)
        snapshots.mount_all(snapshots.mounts(engine.images, engine.containers.dir(c.id),
                                             image), target)
        try:
            # A private mount: the binds below must not propagate to the peers of the
            # daemon's `/` (and their lazy unmount not take the originals with it).
            check(libc.mount(None, target.encode(), None, MS_PRIVATE | MS_REC, None),
                  f"make {target} private")
            root_fd = os.open(target, O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                for bind in binds:
                    _bind(root_fd, bind)
            finally:
                os.close(root_fd)
            yield target
        finally:
            check(libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")
    finally:
        os.rmdir(target)


def _bind(root_fd: int, bind: BindMount) -> None:
    """Bind one source onto its destination, resolved inside the root and held: the
    mount(2) goes through /proc/self/fd/N, the inode resolved, so a destination that is
    a symlink out of the container lands inside it (as runc does since CVE-2021-30465)."""
    source_is_dir = stat.S_ISDIR(os.stat(bind.source).st_mode)
    _make_destination(root_fd, bind.destination, source_is_dir)
    fd = open_beneath(root_fd, bind.destination, O_PATH)
    try:
        proc = f"/proc/self/fd/{fd}"
        check(libc.mount(bind.source.encode(), proc.encode(), None, MS_BIND | MS_REC, None),
              f"bind {bind.source} on {bind.destination}")
        if bind.readonly:
            # A remount cannot go through /proc/self/fd: the mount just made is what the
            # link now names, so its readlink is the path to remount.
            real = os.readlink(proc)
            check(libc.mount(None, real.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY,
                             None), f"remount {bind.destination} read-only")
    finally:
        os.close(fd)


def _make_destination(root_fd: int, destination: str, directory: bool) -> None:
    """Create a missing mount point inside the root, each component through a held
    descriptor (moby's createIfNotExists with os.Root)."""
    parts = [p for p in destination.split("/") if p and p != "."]
    for i, part in enumerate(parts):
        try:
            os.close(open_beneath(root_fd, "/".join(parts[: i + 1]), O_PATH))
            continue
        except FileNotFoundError:
            pass
        parent = open_beneath(root_fd, "/".join(parts[:i]), O_PATH | os.O_DIRECTORY)
        try:
            if i == len(parts) - 1 and not directory:
                flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC
                os.close(os.open(part, flags, 0o755, dir_fd=parent))
            else:
                os.mkdir(part, 0o755, dir_fd=parent)
        finally:
            os.close(parent)
