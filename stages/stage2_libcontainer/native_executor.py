"""Stage 2's executor: the daemon makes containers itself, with libcontainer.

This is Docker 0.9's "native" execution driver. There is no other program between
the daemon and the kernel: the daemon forks, the child unshares namespaces and
pivots into the root filesystem, and the container's pid 1 ends up as the daemon's
own child. The daemon marks itself a *child subreaper* so that it is: the process
that forks pid 1 must exit (a process cannot move itself into a new pid namespace,
only its next child lands there), and without a subreaper its orphaned child would
be adopted by the host's init, out of our reach to wait for.

The daemon keeps and reaps its children as stage 1 did its tools (shared/daemon/children):
one thread per process waits for its exit with waitpid(2), as the Go daemon had a
goroutine per container.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from shared import cgroupstats, trace
from shared.daemon.children import ParentExecutor, Process, exit_status, open_fifos
from shared.daemon.executor import ExecutorError, ExitStatus, IOConfig, start_error
from shared.libc import set_child_subreaper
from shared.terminal import copy_terminal, set_winsize
from stages.stage2_libcontainer.libcontainer import Container, ContainerError, Stdio, specconv


def init_status(container: Container, returncode: int) -> ExitStatus:
    """How a container's init ended, and whether the OOM killer fired in its cgroup."""
    try:
        oom = container.oom_killed()
    except (OSError, ContainerError):
        oom = False
    return exit_status(returncode, oom_killed=oom)


class NativeExecutor(ParentExecutor[Container, Process]):
    name = "libcontainer"
    makes_network_links = False
    containers_outlive_daemon = False  # the daemon is their parent and holds their pipes
    containers_outlive_containerd = False

    def __init__(self, state_root: str) -> None:
        super().__init__()
        self.state_root = state_root
        os.makedirs(state_root, mode=0o700, exist_ok=True)
        set_child_subreaper()

    # ------------------------------------------------------------ helpers

    def _launch(self, cid: str, io: IOConfig,
                spawn: Callable[[Stdio | None, socket.socket | None], int]) -> Process:
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
            master = fds[0]
            proc = Process(pid=pid, master=master)
            proc.threads = copy_terminal(master, io.stdin, io.stdout)
            return proc
        stdio = Stdio(*open_fifos(io))
        try:
            pid = spawn(stdio, None)
        finally:
            for fd in {stdio.stdin, stdio.stdout, stdio.stderr}:
                os.close(fd)
        return Process(pid=pid)

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
            # The init's words, over its sync socket ("executable file not found"...)
            raise start_error(str(e)) from None
        container = holder["c"]
        size = spec.get("process", {}).get("consoleSize")
        if proc.master is not None and size:
            set_winsize(proc.master, size["height"], size["width"])
        self._keep(cid, None, proc, container=container)
        self._reap(proc, lambda rc: init_status(container, rc))
        return proc.pid

    def start(self, cid: str) -> None:
        try:
            with trace.span("daemon", "call", "Container.start", "libcontainer"):
                self._container(cid).start()
        except ContainerError as e:
            raise start_error(str(e)) from None

    def kill(self, cid: str, signal: int, all: bool = False, exec_id: str | None = None) -> None:
        if exec_id is not None:
            self._signal_exec(cid, exec_id, signal)
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
            raise start_error(str(e)) from None
        self._keep(cid, exec_id, proc)
        self._reap(proc)
        return proc.pid

    def pids(self, cid: str) -> list[int]:
        return self._container(cid).processes()

    def metrics(self, cid: str, pid: int) -> dict:
        """The daemon reads the container's cgroup itself (as dockerd asked libcontainer
        before containerd)."""
        self._container(cid)
        return cgroupstats.metrics(pid)

    def update(self, cid: str, resources: dict) -> None:
        """`docker update`: the cgroup manager writes each limit given again (as runc
        update does); the processes keep running."""
        try:
            limits = specconv.to_resources(resources, "resources")
            self._container(cid).cgroup.create(limits)
        except (ContainerError, OSError) as e:
            raise ExecutorError(f"update {cid}: {e}") from None

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
        container, _ = self._forget(cid)
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

    def close(self) -> None:
        pass
