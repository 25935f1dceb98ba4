"""The processes a daemon started itself and must reap: the executor of stages 1 and 2.

In the first two eras the daemon is the parent of what runs a container: of
lxc-start and lxc-attach (stage 1), of the container's init and its execs themselves
(stage 2, a child subreaper). Only a process's parent learns how it ended, through
wait(2), and until it asks the dead child stays a zombie. So the daemon keeps its
children in a table and waits for each in a thread of its own, as the Go daemon had a
goroutine per container; the exit status is kept there until `wait` asks for it,
however late.

A parent's children die with it: after a restart nothing is left to wait for (stages
3 and 4 change that). What differs between the two eras stays in their executors: how
a process is started, and how its end is read (LXC's log, libcontainer's cgroup).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from shared.daemon.executor import ExecutorError, ExitStatus, IOConfig, NotFoundError
from shared.terminal import set_winsize


@dataclass(kw_only=True)
class Process:
    """A child of the daemon: a container's init or an exec (or the tool running it)."""

    pid: int
    master: int | None = None  # pty master, when the process has a terminal
    exited: threading.Event = field(default_factory=threading.Event)
    status: ExitStatus | None = None
    threads: list[threading.Thread] = field(default_factory=list)  # its terminal's copies

    def wait_exit(self) -> int:
        """Wait for it to exit and reap it; its exit code, or -N if signal N killed it
        (as subprocess says it)."""
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)

    def send_signal(self, signal: int) -> None:
        os.kill(self.pid, signal)


def exit_status(returncode: int, oom_killed: bool = False) -> ExitStatus:
    """How a process ended, as `docker inspect` says it: killed by signal N is the
    shell's 128 + N."""
    code = 128 - returncode if returncode < 0 else returncode
    return ExitStatus(code=code, exited_at=time.time(), oom_killed=oom_killed)


def open_fifos(io: IOConfig) -> tuple[int, int, int]:
    """The container's ends of the daemon's FIFOs (stdin, stdout, stderr), for a process
    without a terminal. The caller closes them once the child has its copies."""
    stdin = os.open(io.stdin or os.devnull, os.O_RDONLY)
    stdout = os.open(io.stdout, os.O_WRONLY)
    stderr = os.open(io.stderr, os.O_WRONLY) if io.stderr else os.dup(stdout)
    return stdin, stdout, stderr


C = TypeVar("C")  # the era's container
P = TypeVar("P", bound=Process)  # the era's child process


class ParentExecutor(Generic[C, P]):
    """What an executor whose containers are the daemon's children does the same in
    every era: the table of containers and processes, the reaping threads, and the
    Executor verbs that only read that table (wait, resize, close_io, restore)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._containers: dict[str, C] = {}
        self._procs: dict[tuple[str, str | None], P] = {}  # (container, exec id; None: init)

    def _container(self, cid: str) -> C:
        with self._lock:
            c = self._containers.get(cid)
        if c is None:
            raise NotFoundError(f"container {cid} does not exist")
        return c

    def _proc(self, cid: str, exec_id: str | None) -> P:
        with self._lock:
            p = self._procs.get((cid, exec_id))
        if p is None:
            raise NotFoundError(f"process {exec_id or 'init'} of {cid} does not exist")
        return p

    def _keep(self, cid: str, exec_id: str | None, proc: P, container: C | None = None) -> None:
        """Put a process (an init: with its container) in the table."""
        with self._lock:
            if container is not None:
                self._containers[cid] = container
            self._procs[(cid, exec_id)] = proc

    def _forget(self, cid: str) -> tuple[C | None, P | None]:
        """Take a container and all its processes out of the table; (container, init)."""
        with self._lock:
            container = self._containers.pop(cid, None)
            init = self._procs.pop((cid, None), None)
            for key in [k for k in self._procs if k[0] == cid]:
                del self._procs[key]
        return container, init

    def _reap(self, proc: P, status: Callable[[int], ExitStatus] = exit_status) -> None:
        """Wait for the process in a thread of its own; `status(returncode)` says how it
        ended (`returncode` as `Process.wait_exit` gives it)."""

        def wait() -> None:
            result = status(proc.wait_exit())
            if proc.threads:
                proc.threads[0].join(5)  # the terminal's last output reaches the FIFO
            if proc.master is not None:
                os.close(proc.master)
                proc.master = None
            proc.status = result
            proc.exited.set()

        threading.Thread(target=wait, name=f"reap-{proc.pid}", daemon=True).start()

    def _signal_exec(self, cid: str, exec_id: str, signal: int) -> None:
        proc = self._proc(cid, exec_id)
        if not proc.exited.is_set():
            proc.send_signal(signal)

    # ------------------------------------------------------------ Executor

    def wait(self, cid: str, exec_id: str | None = None) -> ExitStatus:
        proc = self._proc(cid, exec_id)
        proc.exited.wait()
        assert proc.status is not None
        return proc.status

    def resize(self, cid: str, exec_id: str | None, height: int, width: int) -> None:
        proc = self._proc(cid, exec_id)
        if proc.master is None:
            raise ExecutorError(f"resize {cid}: the process has no terminal")
        set_winsize(proc.master, height, width)

    def close_io(self, cid: str, exec_id: str | None = None) -> None:
        pass  # the daemon's end of the FIFO was the only writer: closing it was the EOF

    def restore(self, cid: str) -> int:
        raise NotFoundError(f"container {cid}: the daemon was its parent, it did not survive")
