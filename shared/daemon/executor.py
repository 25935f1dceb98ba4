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
class Mount:
    """A mount as containerd describes one: enough to call mount(2) with."""

    type: str
    source: str
    options: tuple[str, ...] = ()


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
    """An executor could not do what was asked; the message names the operation."""


class NotFoundError(ExecutorError):
    """No such container or process in the executor (already deleted, never created)."""


class Executor(Protocol):
    """What a stage implements. Every call names a container by its 64-hex id."""

    name: str

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
