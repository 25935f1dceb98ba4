"""A task: one container's processes, made and watched through the OCI runtime.

Stage 3's containerd keeps one Task per container in its own memory, behind its gRPC
Tasks service (tasks.py). Stage 4 moves each Task into a shim process of its own: the
same class, one process per container. That move is the whole difference between the
eras, which is why this file knows nothing about gRPC.

The bundle (a directory with config.json, whose root.path is the rootfs the daemon
mounted) exists before the Task does; `create` runs `RUNTIME create` in it, `start`
runs `RUNTIME start`, and from then on the process is ours to wait for (we are a
child subreaper) and its exit status ours to keep until `delete`.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

from shared import cgroupstats
from shared.terminal import copy_terminal
from stages.stage3_containerd.containerd.process import (
    ConsoleSocket,
    Exit,
    Process,
    Reaper,
)
from stages.stage3_containerd.containerd.runtime import Runtime, RuntimeError_, read_pid


class TaskError(Exception):
    """The task could not do what was asked; the message names the operation."""


class NotFound(TaskError):
    pass


class AlreadyExists(TaskError):
    pass


class Stdio:
    """The daemon's FIFOs for one process ("" for none; no stderr with a terminal)."""

    __slots__ = ("stdin", "stdout", "stderr", "terminal")

    def __init__(self, stdin: str, stdout: str, stderr: str, terminal: bool) -> None:
        self.stdin, self.stdout, self.stderr, self.terminal = stdin, stdout, stderr, terminal


def open_stdio(proc: Process, io: Stdio) -> tuple[int, int, int]:
    """Open the container's ends of the daemon's FIFOs, and keep them open.

    The daemon holds its own ends open already, so none of these opens blocks. A FIFO
    with no reader left makes its writer die of SIGPIPE, and one with no writer left
    reads as EOF: if only the daemon held the other ends, a daemon restart would kill
    the container or end its input. So we hold one more fd (O_RDWR, which never
    blocks) on each FIFO for as long as the process lives: output written while the
    daemon is away waits in the pipe, up to its buffer, for the next daemon to read.
    """
    for path in (io.stdout, io.stderr):
        if path:
            proc.keep_output.append(os.open(path, os.O_RDWR))
    if io.stdin:
        proc.keep_stdin = os.open(io.stdin, os.O_RDWR)
    if io.terminal:  # the runtime gets a pty instead; we copy (see _launch)
        return _devnull(), _devnull(os.O_WRONLY), _devnull(os.O_WRONLY)
    fd_in = os.open(io.stdin, os.O_RDONLY) if io.stdin else _devnull()
    fd_out = os.open(io.stdout, os.O_WRONLY) if io.stdout else _devnull(os.O_WRONLY)
    fd_err = os.open(io.stderr, os.O_WRONLY) if io.stderr else os.dup(fd_out)
    return fd_in, fd_out, fd_err


def _devnull(flags: int = os.O_RDONLY) -> int:
    return os.open(os.devnull, flags)


class Task:
    def __init__(
        self,
        cid: str,
        bundle: str,
        runtime: Runtime,
        reaper: Reaper,
        console_dir: str,
        oom_killed: Callable[[], bool] = lambda: False,
        on_exit: Callable[[str, Exit], None] | None = None,
    ) -> None:
        self.id, self.bundle, self.runtime, self.reaper = cid, bundle, runtime, reaper
        self.console_dir = console_dir  # short: a socket's path has at most 108 bytes
        self._oom_killed = oom_killed
        self._on_exit = on_exit
        self.processes: dict[str, Process] = {}  # "" is the init
        self.started = False
        # Held while starting: an init that exits at once must not be reported as
        # exited before it has been reported as started (see start and _exited).
        self._lifecycle = threading.Lock()

    @property
    def log(self) -> str:
        return os.path.join(self.bundle, "log.json")

    def process(self, exec_id: str) -> Process:
        proc = self.processes.get(exec_id)
        if proc is None:
            raise NotFound(f"process {exec_id or 'init'} of {self.id}: not found")
        return proc

    def _launch(self, exec_id: str, io: Stdio,
                run: Callable[[tuple[int, int, int], str | None], None]) -> Process:
        """Run `run(stdio, console_socket_path)`, read the pid file, start watching."""
        name = exec_id[:16] or "init"
        proc = Process()
        console = (
            ConsoleSocket(os.path.join(self.console_dir, f"c-{self.id[:12]}-{name}.sock"))
            if io.terminal
            else None
        )
        try:
            stdio = open_stdio(proc, io)
            try:
                run(stdio, console.path if console else None)
            finally:
                for fd in set(stdio):
                    os.close(fd)
            if console is not None:
                proc.master = console.receive()
                proc.copiers = copy_terminal(proc.master, io.stdin or None, io.stdout)
            proc.pid = read_pid(os.path.join(self.bundle, f"{name}.pid"))
        except (RuntimeError_, OSError) as e:
            proc.close_io()
            for fd in proc.keep_output:
                os.close(fd)
            if proc.master is not None:
                os.close(proc.master)
            what = "create task" if not exec_id else "exec in"
            raise TaskError(f"{what} {self.id}: {e}") from None
        finally:
            if console is not None:
                console.close()
        self.processes[exec_id] = proc
        self.reaper.watched.add(proc.pid)
        proc.watch(lambda p, code: self._exited(exec_id, code))
        return proc

    def _exited(self, exec_id: str, code: int) -> Exit:
        e = Exit(code, time.time(), self._oom_killed() if not exec_id else False)
        if self._on_exit is not None:
            with self._lifecycle:
                self._on_exit(exec_id, e)
        return e

    # ------------------------------------------------------------ the verbs

    def create(self, io: Stdio) -> int:
        pid_file = os.path.join(self.bundle, "init.pid")
        proc = self._launch(
            "",
            io,
            lambda stdio, console: self.runtime.create(
                self.id, self.bundle, pid_file, self.log, stdio, console
            ),
        )
        return proc.pid

    def start(self, on_started: Callable[[], None] | None = None) -> None:
        with self._lifecycle:
            try:
                self.runtime.start(self.id, self.log)
            except RuntimeError_ as e:
                raise TaskError(str(e)) from None
            self.started = True
            if on_started is not None:
                on_started()

    def wait(self, exec_id: str = "") -> Exit:
        proc = self.process(exec_id)
        proc.exited.wait()
        assert proc.exit is not None
        return proc.exit

    def kill(self, exec_id: str, sig: int, all: bool = False) -> None:
        proc = self.process(exec_id)
        if proc.exited.is_set():
            raise NotFound(f"process {self.id}: already exited")
        try:
            if exec_id:
                os.kill(proc.pid, sig)
            else:
                self.runtime.kill(self.id, sig, all, self.log)
        except (RuntimeError_, ProcessLookupError) as e:
            raise NotFound(f"kill {self.id}: {e}") from None

    def pause(self) -> None:
        self._freeze("pause")

    def resume(self) -> None:
        self._freeze("resume")

    def metrics(self) -> dict:
        """The counters of the container's cgroup, read by containerd (the real one
        reads them with its cgroups library, for Tasks.Metrics)."""
        init = self.process("")
        if init.exited.is_set():
            raise NotFound(f"metrics {self.id}: container has exited")
        return cgroupstats.metrics(init.pid)

    def update(self, resources: bytes) -> None:
        """New limits (OCI linux.resources JSON) for the running container's cgroup."""
        if self.process("").exited.is_set():
            raise NotFound(f"update {self.id}: container has exited")
        path = os.path.join(self.bundle, "update-resources.json")
        with open(path, "wb") as f:
            f.write(resources)
        try:
            self.runtime.update(self.id, path, self.log)
        except RuntimeError_ as e:
            raise TaskError(f"update {self.id}: {e}") from None
        finally:
            os.unlink(path)

    def _freeze(self, verb: str) -> None:
        if self.process("").exited.is_set():
            raise NotFound(f"{verb} {self.id}: container has exited")
        try:
            getattr(self.runtime, verb)(self.id, self.log)
        except RuntimeError_ as e:
            raise TaskError(f"{verb} {self.id}: {e}") from None

    def exec(self, exec_id: str, process: bytes, io: Stdio) -> int:
        if exec_id in self.processes:
            raise AlreadyExists(f"exec {exec_id}: already exists")
        name = exec_id[:16]
        process_file = os.path.join(self.bundle, f"{name}.json")
        pid_file = os.path.join(self.bundle, f"{name}.pid")
        with open(process_file, "wb") as f:
            f.write(process)
        proc = self._launch(
            exec_id,
            io,
            lambda stdio, console: self.runtime.exec(
                self.id, process_file, pid_file, self.log, stdio, console
            ),
        )
        return proc.pid

    def resize(self, exec_id: str, height: int, width: int) -> None:
        try:
            self.process(exec_id).resize(height, width)
        except OSError as e:
            raise TaskError(f"resize {self.id}: {e}") from None

    def close_io(self, exec_id: str) -> None:
        self.process(exec_id).close_io()

    def pids(self) -> list[int]:
        try:
            return self.runtime.ps(self.id, self.log)
        except RuntimeError_ as e:
            raise TaskError(str(e)) from None

    def status(self) -> str:
        init = self.processes.get("")
        if init is not None and init.exited.is_set():
            return "stopped"
        return "running" if self.started else "created"

    def delete_process(self, exec_id: str) -> Exit | None:
        proc = self.processes.pop(exec_id, None)
        if proc is None:
            return None
        self.reaper.watched.discard(proc.pid)
        return proc.exit

    def delete(self) -> Exit | None:
        """`runtime delete --force`: the container's processes, cgroup and state go."""
        init = self.processes.get("")
        try:
            self.runtime.delete(self.id, self.log)
        except RuntimeError_:
            pass  # already gone: delete is idempotent
        if init is not None and not init.exited.wait(10):
            raise TaskError(f"delete {self.id}: still running")
        for proc in self.processes.values():
            self.reaper.watched.discard(proc.pid)
        return init.exit if init else None

    def kill_all(self) -> None:
        """The watcher is going away and its containers cannot outlive it."""
        try:
            self.runtime.kill(self.id, signal.SIGKILL, True, self.log)
        except RuntimeError_:
            pass
        try:
            self.runtime.delete(self.id, self.log)
        except RuntimeError_:
            pass
