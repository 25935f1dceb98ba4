"""What LXC leaves behind after a container, and how stage 1 removes it.

LXC's tools are made for long-lived, named containers that a person starts and stops
by hand; a few of their traces outlive every container on purpose. A daemon that
makes one container per `docker run` must clean them up, or they pile up:

  cgroups   lxc-start (the monitor) lives in a cgroup of its own, `lxc.cgroup.dir.
            monitor`, beside the container's. When the container is over it removes
            both, but a process cannot remove the cgroup it is in: it first moves
            itself into `<lxc.cgroup.dir.monitor.pivot>/lxc.pivot` and exits there.
            The pivot stays, by design (LXC's default one, `lxc.pivot` at the top of
            each hierarchy, is shared by every container). Ours is one per container
            (lxc_config.cgroup_dirs), removed once lxc-start has been reaped: only
            then is it empty, and only then can nothing create it again.
  locks     every tool (lxc-start, lxc-attach, lxc-stop) takes a lock file per
            container, `/run/lxc/lock/<lxcpath>/.<name>`, and none removes it: an
            unlinked lock file is no lock for whoever still has it open. Once the
            container is deleted nobody will, so `delete` unlinks it. The directories
            above it are shared by all our containers; LXC makes them again whenever
            it needs them, so only `close` removes them (while a container is being
            created, removing them could make its lxc-start fail to take its lock).
  state     `<lxcpath>/<name>/`: our config, hooks and LXC's log; removed by `delete`.

A daemon that died (kill -9) leaves more: lxc-start and its container run on, their
parent gone. The next daemon does not know them; it asks the executor to delete them,
and `kill_cgroups` ends every process in the container's, monitor's and pivot's
cgroups (lxc-start too: a monitor without its daemon has nobody to report to).
"""

from __future__ import annotations

import errno
import os
import signal
import time

from shared.daemon.executor import ExecutorError

CGROUP_ROOT = "/sys/fs/cgroup"
# LXC's run directory for root (RUNTIME_PATH, /run) + lxc/lock, as lxclock.c names it
LOCK_ROOT = "/run/lxc/lock"
# What LXC makes of lxc_config.cgroup_dirs' base, `whalebones/<id>`: the container's
# cgroup, the monitor's, and the pivot the monitor leaves.
CGROUP_SUFFIXES = ("", ".lxc-monitor", ".lxc-pivot")


def cgroup_version() -> int:
    """1 when the controllers are in v1 hierarchies (also on a hybrid host), else 2."""
    return 1 if os.path.isdir(os.path.join(CGROUP_ROOT, "memory")) else 2


def hierarchies() -> list[str]:
    """Every mounted cgroup hierarchy: /sys/fs/cgroup itself on v2, its subdirs on v1
    (a hybrid host's `unified` and `systemd` too: LXC makes its cgroups in all)."""
    if cgroup_version() == 2:
        return [CGROUP_ROOT]
    return [e.path for e in os.scandir(CGROUP_ROOT) if e.is_dir() and not e.is_symlink()]


def container_cgroups(cgroup: str) -> list[str]:
    """Every cgroup directory LXC may have made for one container (existing or not)."""
    return [os.path.join(top, cgroup + s) for top in hierarchies() for s in CGROUP_SUFFIXES]


def cgroup_procs(paths: list[str]) -> set[int]:
    """Every process in these cgroups and the cgroups below them."""
    found: set[int] = set()
    for path in paths:
        for dirpath, _dirs, files in os.walk(path):
            if "cgroup.procs" in files:
                try:
                    with open(os.path.join(dirpath, "cgroup.procs")) as f:
                        found.update(int(p) for p in f.read().split())
                except OSError:
                    pass  # removed meanwhile
    return found


def kill_cgroups(paths: list[str], timeout: float = 5.0) -> None:
    """SIGKILL every process in these cgroups until none is left (a process forked
    meanwhile is in a cgroup too: it is found on the next round)."""
    for path in paths:
        freezer = os.path.join(path, "freezer.state")
        if os.path.exists(freezer):
            # A frozen process does not act on SIGKILL until it is thawed.
            try:
                with open(freezer, "w") as f:
                    f.write("THAWED")
            except OSError:
                pass
    deadline = time.monotonic() + timeout
    while pids := cgroup_procs(paths):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise ExecutorError(f"processes left in {paths[0]}: {sorted(pids)}")
        time.sleep(0.01)  # until they are reaped (their parent, or pid 1 for orphans)


def remove_cgroup_tree(path: str, timeout: float = 2.0) -> None:
    """rmdir a cgroup and the cgroups below it, deepest first (a cgroup directory can
    only be removed empty, and its files are not files: rmdir, never unlink).

    EBUSY is retried for a moment: a cgroup whose last process has just been killed
    stays populated until that process has been reaped, by whoever its parent is.
    """
    if not os.path.isdir(path):
        return
    deadline = time.monotonic() + timeout
    for dirpath, _dirs, _files in sorted(os.walk(path), key=lambda w: -len(w[0])):
        while True:
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno != errno.EBUSY or time.monotonic() > deadline:
                    raise ExecutorError(f"remove cgroup {dirpath}: {e.strerror}") from None
                time.sleep(0.01)


def lock_dir(lxcpath: str) -> str:
    """Where LXC keeps the lock files of the containers under one lxcpath."""
    return LOCK_ROOT + os.path.abspath(lxcpath)


def remove_lock(lxcpath: str, name: str) -> None:
    """Unlink the lock file LXC's tools took for one container (see the docstring)."""
    try:
        os.unlink(os.path.join(lock_dir(lxcpath), "." + name))
    except FileNotFoundError:
        pass


def remove_lock_dirs(lxcpath: str) -> None:
    """rmdir the lock directories LXC made for an lxcpath, as far up as they are empty
    (LOCK_ROOT itself is LXC's: it stays)."""
    path = lock_dir(lxcpath)
    while path.startswith(LOCK_ROOT + "/"):
        try:
            os.rmdir(path)
        except OSError:  # ENOTEMPTY: a container's lock, or another lxcpath's
            return
        path = os.path.dirname(path)
