"""A process containerd watches: the container's init, or an exec.

containerd is a child subreaper, so when `runc create` exits, the container's init
(orphaned by it) is re-parented to containerd, which can then waitpid() it like its
own child. One thread per process does exactly that: in this era containerd *is*
every container's parent, which is also why its death is theirs (stage 4 fixes it).

With a terminal, the runtime hands containerd the pty master through the console
socket, and containerd copies between it and the daemon's FIFOs.
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


@dataclass
class Exit:
    status: int
    exited_at: float
    oom_killed: bool = False


@dataclass
class Process:
    pid: int = 0
    master: int | None = None
    exited: threading.Event = field(default_factory=threading.Event)
    exit: Exit | None = None
    copiers: list[threading.Thread] = field(default_factory=list)

    def watch(self, oom_check) -> None:  # type: ignore[no-untyped-def]
        def wait() -> None:
            try:
                _, status = os.waitpid(self.pid, 0)
                code = os.waitstatus_to_exitcode(status)
            except ChildProcessError:  # not our child (a containerd restart): poll
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
            self.exit = Exit(code, time.time(), oom_check())
            self.exited.set()

        threading.Thread(target=wait, name=f"wait-{self.pid}", daemon=True).start()

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
            self.master = fds[0]

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

    Being a subreaper has a price: *every* orphan below containerd becomes its child,
    not only the containers' inits. A runtime's helper process that outlives its
    parent (an exec that failed before its execve, say) ends up here as a zombie, and
    a zombie in a container's pid namespace keeps the container's cgroup busy. So a
    thread looks for zombie children every half second and reaps those that are
    neither a watched process (its own thread reaps it, with its status) nor a
    runtime call in flight (subprocess must get that status itself). Never
    waitpid(-1): it would steal both.
    """

    def __init__(self) -> None:
        self.watched: set[int] = set()
        self.calls: set[int] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._loop, name="reaper", daemon=True).start()

    def _loop(self) -> None:
        me = os.getpid()
        seen: dict[int, int] = {}  # zombie -> how many scans it has been one
        while True:
            time.sleep(0.5)
            with self._lock:
                keep = self.watched | self.calls
            zombies = [pid for pid in zombie_children(me) if pid not in keep]
            seen = {pid: seen.get(pid, 0) + 1 for pid in zombies}
            for pid, scans in seen.items():
                # A process that exits the moment it starts is a zombie here before
                # the Tasks service has read its pid file and started watching it:
                # only a zombie that stays unclaimed for a few scans is a stray.
                if scans >= 4:
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass


def zombie_children(parent: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == parent:
            found.append(int(name))
    return found
