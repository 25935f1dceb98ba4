"""A process a task watches: the container's init, or an exec.

Whoever watches is a child subreaper (containerd in stage 3, the shim in stage 4), so
when `runc create` exits, the container's init (orphaned by it) is re-parented to the
watcher, which can then waitpid() it like its own child. One thread per process does
exactly that.

With a terminal, the runtime hands the watcher the pty master through the console
socket, and the watcher copies between it and the daemon's FIFOs.

Plain classes, no dataclasses: stage 4 runs this code once per container in a shim,
where every imported module is resident memory paid a hundred times over.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import termios
import threading
import time
from collections.abc import Callable


class Exit:
    __slots__ = ("status", "exited_at", "oom_killed")

    def __init__(self, status: int, exited_at: float, oom_killed: bool = False) -> None:
        self.status = status  # 128 + N when killed by signal N
        self.exited_at = exited_at
        self.oom_killed = oom_killed


class Process:
    def __init__(self) -> None:
        self.pid = 0
        self.master: int | None = None
        self.exited = threading.Event()
        self.exit: Exit | None = None
        self.copiers: list[threading.Thread] = []
        # Extra fds on the daemon's FIFOs that keep them open while the process lives
        # (see task.open_stdio): stdin's is released by close_io(), the rest at the exit.
        self.keep_stdin: int | None = None
        self.keep_output: list[int] = []

    def watch(self, on_exit: Callable[[Process, int], Exit]) -> None:
        """Wait for the process in a thread of its own; `on_exit(self, status)` makes
        the Exit record (it may look at the cgroup, or write the status to disk)."""

        def wait() -> None:
            try:
                _, status = os.waitpid(self.pid, 0)
                code = os.waitstatus_to_exitcode(status)
            except ChildProcessError:  # not our child: poll until it is gone
                while os.path.exists(f"/proc/{self.pid}"):
                    time.sleep(0.1)
                code = 255
            if code < 0:
                code = 128 - code
            if self.copiers:
                self.copiers[0].join(5)  # the terminal's last output reaches the FIFO
            if self.master is not None:
                os.close(self.master)
                self.master = None
            self.close_io()
            for fd in self.keep_output:
                os.close(fd)
            self.keep_output = []
            self.exit = on_exit(self, code)
            self.exited.set()

        threading.Thread(target=wait, name=f"wait-{self.pid}", daemon=True).start()

    def close_io(self) -> None:
        """The client is done writing: once the daemon's end is closed too, the
        process reads EOF (docker's CloseIO)."""
        fd, self.keep_stdin = self.keep_stdin, None
        if fd is not None:
            os.close(fd)

    def resize(self, height: int, width: int) -> None:
        if self.master is None:
            raise OSError("the process has no terminal")
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


class ConsoleSocket:
    """A unix socket the runtime connects to, to hand over the pty master."""

    def __init__(self, path: str) -> None:
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.master: int | None = None
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(30)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
        if fds:
            os.set_inheritable(fds[0], False)  # sent fds arrive inheritable: no runtime
            self.master = fds[0]               # we start later may take it along

    def receive(self) -> int:
        self._thread.join(30)
        self.close()
        if self.master is None:
            raise OSError("the runtime sent no terminal")
        return self.master

    def close(self) -> None:
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class Reaper:
    """Reap the orphans nobody else waits for.

    Being a subreaper has a price: *every* orphan below us becomes our child, not
    only the containers' inits. A runtime's helper process that outlives its parent
    (an exec that failed before its execve, say) ends up here as a zombie, and a
    zombie in a container's pid namespace keeps the container's cgroup busy. So a
    thread looks for zombie children every half second and reaps those that are
    neither a watched process (its own thread reaps it, with its status) nor a
    runtime call in flight (its caller must get that status itself). Never
    waitpid(-1): it would steal both.
    """

    def __init__(self) -> None:
        self.watched: set[int] = set()
        self.calls: set[int] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._loop, name="reaper", daemon=True).start()

    def _loop(self) -> None:
        seen: dict[int, int] = {}  # zombie -> how many scans it has been one
        while True:
            time.sleep(0.5)
            with self._lock:
                keep = self.watched | self.calls
            zombies = [pid for pid in zombie_children() if pid not in keep]
            seen = {pid: seen.get(pid, 0) + 1 for pid in zombies}
            for pid, scans in seen.items():
                # A process that exits the moment it starts is a zombie here before
                # its pid file has been read and its watcher started: only a zombie
                # that stays unclaimed for a few scans is a stray.
                if scans >= 4:
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass


def zombie_children() -> list[int]:
    """Our children that have exited and wait to be reaped. The kernel lists each
    thread's children in /proc/self/task/<tid>/children: a handful of small reads,
    not a scan of every process on the host."""
    found = []
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/children") as f:
                children = f.read().split()
        except OSError:
            continue
        for pid in children:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        found.append(int(pid))
            except OSError:
                continue
    return found
