"""The one seam every era changes: how the daemon turns an OCI spec into a process.

The daemon (names, logs, images, the REST API) is the same in every stage. What
changed between Docker's eras is what sits behind this interface:

    stage 1  LXC tools read a generated LXC config and make the container
    stage 2  libcontainer, inside the daemon, makes it with native kernel calls
    stage 3  containerd, over gRPC, asks `runc` to make it from an OCI bundle
    stage 4  as stage 3, with a shim per container as its parent

The verbs mirror containerd's Tasks service (Create, Start, Wait, Kill, Exec,
ResizePty, Delete, Pids), because that is the shape the industry settled on and the
shape Docker's own `libcontainerd` has spoken since 2016.

Standard I/O crosses this seam as FIFO paths, as it does between dockerd and
containerd: the daemon makes the FIFOs and reads and writes its ends; the executor
opens the other ends for the container. Paths, unlike file descriptors, can be handed
to another process over gRPC, and they survive the death of whoever opened them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class IOConfig:
    """Where a container process's standard streams go.

    stdin:  FIFO the process reads, or None for /dev/null.
    stdout: FIFO the process writes (with a terminal: everything the pty prints).
    stderr: FIFO for standard error; None with a terminal, which has only one stream.
    terminal: give the process a pseudo-terminal as its controlling tty.
    """

    stdin: str | None
    stdout: str
    stderr: str | None
    terminal: bool = False


@dataclass(frozen=True)
class ExitStatus:
    """How a process ended, as `docker inspect` reports it.

    code: the exit status; 128 + N when the process died of signal N (as a shell says).
    oom_killed: the kernel's OOM killer fired in the container's cgroup.
    """

    code: int
    exited_at: float
    oom_killed: bool = False


class ExecutorError(Exception):
    """An executor could not do what was asked; the message names the operation.

    exit_code: what `docker inspect` reports for a process that could not be started
    at all (the shell's convention); None where the error says nothing about that."""

    exit_code: int | None = None


class NotFoundError(ExecutorError):
    """No such container or process in the executor (already deleted, never created)."""


class CommandNotFound(ExecutorError):
    """The program to run does not exist in the container: exit 127, as a shell says."""

    exit_code = 127


class CommandNotExecutable(ExecutorError):
    """The program exists but cannot be run (not executable, a directory): exit 126."""

    exit_code = 126


def start_error(message: str) -> ExecutorError:
    """A runtime's error text as a typed error.

    Where the error comes from another process (libcontainer's init over its sync
    socket, runc through containerd's gRPC), its text is all that crosses: dockerd reads
    containerd's the same way (moby's daemon/start.go). This is the one place that does.
    """
    if "executable file not found" in message or "no such file or directory" in message:
        return CommandNotFound(message)
    if "permission denied" in message:
        return CommandNotExecutable(message)
    return ExecutorError(message)


class Executor(Protocol):
    """What a stage implements. Every call names a container by its 64-hex id.

    Besides the verbs, each executor declares what its era can do; the daemon asks
    these, never probes for a method."""

    name: str
    # The executor makes the container's network namespace and veths itself, from the
    # plan in the spec (stage 1: LXC's lxc.net keys); otherwise the daemon makes them.
    makes_network_links: bool
    # Containers keep running while the daemon is down (containerd, not the daemon, is
    # their parent and holds their FIFOs): `--live-restore` is possible. Stage 3 on.
    containers_outlive_daemon: bool
    # ...and while containerd is down too (a shim per container is its parent). Stage 4.
    containers_outlive_containerd: bool

    def create(self, cid: str, spec: dict, io: IOConfig) -> int:
        """Make the container's first process, set up but not yet running the user's
        program (it waits, as `runc create` leaves it). Returns its pid on the host.

        spec["root"]["path"] is the container's root filesystem, already mounted by the
        daemon, as Docker's graph drivers did in every era this project rebuilds."""
        ...

    def start(self, cid: str) -> None:
        """Let the created process go on to exec the user's program."""
        ...

    def wait(self, cid: str, exec_id: str | None = None) -> ExitStatus:
        """Block until the container's first process (or the exec) ends."""
        ...

    def kill(self, cid: str, signal: int, all: bool = False, exec_id: str | None = None) -> None:
        """Send a signal to the first process, every process (all) or an exec."""
        ...

    def pause(self, cid: str) -> None:
        """Freeze every process of the container (the freezer cgroup)."""
        ...

    def resume(self, cid: str) -> None:
        """Thaw a paused container."""
        ...

    def exec(self, cid: str, exec_id: str, process: dict, io: IOConfig) -> int:
        """Start one more process (an OCI `process` object) inside a running container."""
        ...

    def resize(self, cid: str, exec_id: str | None, height: int, width: int) -> None:
        """Set the window size of the container's (or the exec's) terminal."""
        ...

    def pids(self, cid: str) -> list[int]:
        """Every process in the container, as host pids."""
        ...

    def metrics(self, cid: str, pid: int) -> dict:
        """The counters of the container's cgroup (shared/cgroupstats.metrics), for
        `docker stats`; `pid`: its init's, as the daemon knows it."""
        ...

    def update(self, cid: str, resources: dict) -> None:
        """New cgroup limits (the spec's linux.resources, only the ones that change)
        for a running container: `docker update`."""
        ...

    def delete(self, cid: str) -> None:
        """Release everything the executor holds for a stopped container (cgroups,
        state, mounts). Deleting an unknown container is not an error."""
        ...

    def close_io(self, cid: str, exec_id: str | None = None) -> None:
        """The daemon closed its end of the process's stdin FIFO: let the process read
        EOF (an executor that keeps the FIFO open for a restarting daemon lets go)."""
        ...

    def restore(self, cid: str) -> int:
        """The daemon restarted (live restore): does the container still exist here?
        Returns its pid (its status may be exited already: `wait` tells), or raises
        NotFoundError where containers cannot outlive the daemon."""
        ...

    def close(self) -> None:
        """The daemon is shutting down: let go of connections, keep containers alone."""
        ...
