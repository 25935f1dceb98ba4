"""A FAKE executor for unit tests of the daemon core (labelled as such).

It runs the container's command with chroot(1) and no namespaces, cgroups or
capability changes at all: it is not a container. It exists so the engine and the API
(lifecycles, streams, logs, errors) can be tested apart from any era's executor.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

from shared.daemon.executor import ExecutorError, ExitStatus, IOConfig, NotFoundError


class FakeExecutor:
    name = "fake-chroot"
    makes_network_links = False
    containers_outlive_daemon = False
    containers_outlive_containerd = False

    def __init__(self) -> None:
        self._procs: dict[tuple[str, str | None], subprocess.Popen] = {}
        self._pending: dict[str, tuple[dict, tuple[int, int, int]]] = {}
        self._status: dict[tuple[str, str | None], ExitStatus] = {}
        self._lock = threading.Lock()

    def _fds(self, io: IOConfig) -> tuple[int, int, int]:
        stdin = os.open(io.stdin or os.devnull, os.O_RDONLY)
        stdout = os.open(io.stdout, os.O_WRONLY)
        stderr = os.open(io.stderr, os.O_WRONLY) if io.stderr else os.dup(stdout)
        return stdin, stdout, stderr

    def _spawn(self, key: tuple[str, str | None], process: dict, root: str, fds) -> int:  # type: ignore[no-untyped-def]
        env = dict(e.split("=", 1) for e in process["env"])
        argv = ["chroot", root, *process["args"]]
        try:
            p = subprocess.Popen(argv, stdin=fds[0], stdout=fds[1], stderr=fds[2], env=env)
        except OSError as e:
            raise ExecutorError(f"start: {e}") from None
        finally:
            for fd in set(fds):
                os.close(fd)
        with self._lock:
            self._procs[key] = p
        return p.pid

    def create(self, cid: str, spec: dict, io: IOConfig) -> int:
        self._pending[cid] = (spec, self._fds(io))
        return 0

    def start(self, cid: str) -> None:
        spec, fds = self._pending.pop(cid)
        self._spawn((cid, None), spec["process"], spec["root"]["path"], fds)
        self._root = spec["root"]["path"]

    def wait(self, cid: str, exec_id: str | None = None) -> ExitStatus:
        with self._lock:
            p = self._procs.get((cid, exec_id))
        if p is None:
            raise NotFoundError(cid)
        code = p.wait()
        return ExitStatus(code=128 - code if code < 0 else code, exited_at=time.time())

    def kill(self, cid: str, signal: int, all: bool = False, exec_id: str | None = None) -> None:
        with self._lock:
            p = self._procs.get((cid, exec_id))
        if p is not None and p.poll() is None:
            p.send_signal(signal)

    def exec(self, cid: str, exec_id: str, process: dict, io: IOConfig) -> int:
        return self._spawn((cid, exec_id), process, self._root, self._fds(io))

    def resize(self, cid: str, exec_id: str | None, height: int, width: int) -> None:
        raise ExecutorError("the fake executor has no terminals")

    def pids(self, cid: str) -> list[int]:
        with self._lock:
            return [p.pid for (c, _), p in self._procs.items() if c == cid and p.poll() is None]

    def delete(self, cid: str) -> None:
        with self._lock:
            for key in [k for k in self._procs if k[0] == cid]:
                p = self._procs.pop(key)
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    p.wait()

    def close(self) -> None:
        pass
