"""Stage 2's executor: the daemon makes containers itself, with libcontainer.

This is Docker 0.9's "native" execution driver. There is no other program between
the daemon and the kernel: the daemon forks, the child unshares namespaces and
pivots into the root filesystem, and the container's pid 1 ends up as the daemon's
own child. The daemon marks itself a *child subreaper* so that it is: the process
that forks pid 1 must exit (a process cannot move itself into a new pid namespace,
only its next child lands there), and without a subreaper its orphaned child would
be adopted by the host's init, out of our reach to wait for.

One thread per process waits for its exit with waitpid(2), as the Go daemon had a
goroutine per container.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import termios
import threading
import time
from dataclasses import dataclass, field

from shared import trace
from shared.daemon.executor import ExecutorError, ExitStatus, IOConfig, NotFoundError
from shared.terminal import copy_terminal
from stages.stage2_libcontainer.libcontainer import (
    Container,
    ContainerError,
    Stdio,
    set_child_subreaper,
)


@dataclass
class Process:
    """A process we started and must reap: a container's init or an exec."""

    pid: int
    master: int | None = None  # pty master, when the process has a terminal
    exited: threading.Event = field(default_factory=threading.Event)
    status: ExitStatus | None = None
    threads: list[threading.Thread] = field(default_factory=list)


def set_winsize(fd: int, height: int, width: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


class NativeExecutor:
    name = "libcontainer"
    makes_network_links = False
    containers_outlive_daemon = False  # the daemon is their parent and holds their pipes
    containers_outlive_containerd = False

    def __init__(self, state_root: str) -> None:
        self.state_root = state_root
        os.makedirs(state_root, mode=0o700, exist_ok=True)
        set_child_subreaper()
        self._lock = threading.Lock()
        self._containers: dict[str, Container] = {}
        self._procs: dict[tuple[str, str | None], Process] = {}

    # ------------------------------------------------------------ helpers

    def _container(self, cid: str) -> Container:
        with self._lock:
            c = self._containers.get(cid)
        if c is None:
            raise NotFoundError(f"container {cid} does not exist")
        return c

    def _proc(self, cid: str, exec_id: str | None) -> Process:
        with self._lock:
            p = self._procs.get((cid, exec_id))
        if p is None:
            raise NotFoundError(f"process {exec_id or 'init'} of {cid} does not exist")
        return p

    def _open_stdio(self, io: IOConfig) -> Stdio:
        """Open the container's ends of the daemon's FIFOs."""
        stdin = os.open(io.stdin or os.devnull, os.O_RDONLY)
        stdout = os.open(io.stdout, os.O_WRONLY)
        stderr = os.open(io.stderr, os.O_WRONLY) if io.stderr else os.dup(stdout)
        return Stdio(stdin, stdout, stderr)

    def _launch(self, cid: str, io: IOConfig, spawn) -> Process:  # type: ignore[no-untyped-def]
        """Run `spawn(stdio, console_socket) -> pid` with the right stdio, then watch it."""
        if io.terminal:
            # The terminal is made inside the container, from its own devpts instance,
            # and its master comes back to us over a socket pair (SCM_RIGHTS): the same
            # "console socket" handshake runc does with its caller.
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                pid = spawn(None, theirs)
                theirs.close()
                _, fds, _, _ = socket.recv_fds(ours, 4096, 1)
            finally:
                theirs.close()
                ours.close()
            if not fds:
                raise ExecutorError("create: the container sent no terminal")
            proc = Process(pid=pid, master=fds[0])
            proc.threads = copy_terminal(proc.master, io.stdin, io.stdout)
            return proc
        stdio = self._open_stdio(io)
        try:
            pid = spawn(stdio, None)
        finally:
            for fd in {stdio.stdin, stdio.stdout, stdio.stderr}:
                os.close(fd)
        return Process(pid=pid)

    def _reap(self, cid: str, proc: Process, container: Container | None) -> None:
        """Wait for the process in a thread of its own; record how it ended."""

        def wait() -> None:
            _, status = os.waitpid(proc.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            if code < 0:
                code = 128 - code  # killed by signal N: the shell's 128 + N
            oom = False
            if container is not None:
                try:
                    oom = container.oom_killed()
                except (OSError, ContainerError):
                    oom = False
            if proc.threads:
                proc.threads[0].join(5)  # the terminal's last output reaches the FIFO
            if proc.master is not None:
                os.close(proc.master)
                proc.master = None
            proc.status = ExitStatus(code=code, exited_at=time.time(), oom_killed=oom)
            proc.exited.set()

        threading.Thread(target=wait, name=f"reap-{proc.pid}", daemon=True).start()

    # ------------------------------------------------------------ Executor

    def create(self, cid: str, spec: dict, io: IOConfig) -> int:
        state_dir = os.path.join(self.state_root, cid)
        holder: dict[str, Container] = {}

        def spawn(stdio: Stdio | None, console: socket.socket | None) -> int:
            with trace.span("daemon", "call", "Container.create", "libcontainer"):
                holder["c"] = Container.create(cid, spec, state_dir, stdio, console)
            return holder["c"].pid

        try:
            proc = self._launch(cid, io, spawn)
        except ContainerError as e:
            raise ExecutorError(str(e)) from None
        container = holder["c"]
        size = spec.get("process", {}).get("consoleSize")
        if proc.master is not None and size:
            set_winsize(proc.master, size["height"], size["width"])
        with self._lock:
            self._containers[cid] = container
            self._procs[(cid, None)] = proc
        self._reap(cid, proc, container)
        return proc.pid

    def start(self, cid: str) -> None:
        try:
            with trace.span("daemon", "call", "Container.start", "libcontainer"):
                self._container(cid).start()
        except ContainerError as e:
            raise ExecutorError(str(e)) from None

    def wait(self, cid: str, exec_id: str | None = None) -> ExitStatus:
        proc = self._proc(cid, exec_id)
        proc.exited.wait()
        assert proc.status is not None
        return proc.status

    def kill(self, cid: str, signal: int, all: bool = False, exec_id: str | None = None) -> None:
        if exec_id is not None:
            proc = self._proc(cid, exec_id)
            if not proc.exited.is_set():
                os.kill(proc.pid, signal)
            return
        try:
            self._container(cid).signal(signal, all=all)
        except (ContainerError, ProcessLookupError) as e:
            raise ExecutorError(f"kill {cid}: {e}") from None

    def exec(self, cid: str, exec_id: str, process: dict, io: IOConfig) -> int:
        container = self._container(cid)

        def spawn(stdio: Stdio | None, console: socket.socket | None) -> int:
            with trace.span("daemon", "call", "Container.exec", "libcontainer"):
                return container.exec(process, stdio, console)

        try:
            proc = self._launch(cid, io, spawn)
        except ContainerError as e:
            raise ExecutorError(str(e)) from None
        with self._lock:
            self._procs[(cid, exec_id)] = proc
        self._reap(cid, proc, None)
        return proc.pid

    def resize(self, cid: str, exec_id: str | None, height: int, width: int) -> None:
        proc = self._proc(cid, exec_id)
        if proc.master is None:
            raise ExecutorError(f"resize {cid}: the process has no terminal")
        set_winsize(proc.master, height, width)

    def pids(self, cid: str) -> list[int]:
        return self._container(cid).processes()

    def pause(self, cid: str) -> None:
        try:
            self._container(cid).pause()
        except ContainerError as e:
            raise ExecutorError(str(e)) from None

    def resume(self, cid: str) -> None:
        try:
            self._container(cid).resume()
        except ContainerError as e:
            raise ExecutorError(str(e)) from None

    def delete(self, cid: str) -> None:
        with self._lock:
            container = self._containers.pop(cid, None)
            for key in [k for k in self._procs if k[0] == cid]:
                del self._procs[key]
        if container is None:
            # Not ours in memory (a daemon restart): what its state dir says is enough.
            state_dir = os.path.join(self.state_root, cid)
            if not os.path.isdir(state_dir):
                return
            try:
                container = Container.load(cid, state_dir)
            except ContainerError:
                return
        try:
            with trace.span("daemon", "call", "Container.destroy", "libcontainer"):
                container.destroy()
        except ContainerError as e:
            raise ExecutorError(f"delete {cid}: {e}") from None

    def close_io(self, cid: str, exec_id: str | None = None) -> None:
        pass  # the daemon's end of the FIFO was the only writer: closing it was the EOF

    def restore(self, cid: str) -> int:
        raise NotFoundError(f"container {cid}: the daemon was its parent, it did not survive")

    def close(self) -> None:
        pass
