"""`docker exec`: one more process in a running container, and the daemon's record of it.

An exec is made in two steps, as in Docker's API: `create` only records what to run
(and returns an id); `start` builds the process from the container's own (its
namespaces, cgroup, capabilities: the OCI `process` of its spec, with the exec's command,
env, user and terminal) and hands it to the executor, which joins it to the container.
Exec records live in memory only, as in dockerd: they do not survive a daemon restart.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared import detachkeys
from shared.daemon import restartpolicy
from shared.daemon.executor import ExecutorError
from shared.daemon.stdio import Broadcast, ProcessIO, make_fifos
from shared.errors import (
    Conflict,
    EngineError,
    InvalidParameter,
    NoSuchContainer,
    NoSuchExec,
    NotRunning,
)
from shared.oci import runtime_spec, users
from shared.oci.runtime_spec import SpecError

if TYPE_CHECKING:
    from shared.daemon.engine import Engine


@dataclass
class Exec:
    id: str
    container_id: str
    body: dict
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    io: ProcessIO | None = None
    output: Broadcast = field(default_factory=Broadcast)
    done: threading.Event = field(default_factory=threading.Event)


class ExecStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._execs: dict[str, Exec] = {}

    def create(self, ref: str, body: object) -> Exec:
        c = self.engine.containers.get(ref)
        if not isinstance(body, dict):
            raise InvalidParameter("invalid JSON: the body must be an object")
        if not body.get("Cmd"):
            raise InvalidParameter("No exec command specified")
        restartpolicy.refuse_if_restarting(c.state.status, c.id)
        if not c.state.running:
            raise NotRunning(c.id)
        if c.state.status == "paused":  # (dockerd names it as the client did, here)
            raise Conflict(f"Container {ref} is paused, unpause the container before exec")
        keys = body.get("DetachKeys") or ""
        try:
            if keys:
                detachkeys.to_bytes(keys)
        except ValueError:
            # dockerd's words; its status is a 500 (a plain error), ours the 400 of
            # any bad input
            raise InvalidParameter(f"Invalid escape keys ({keys}) provided") from None
        ex = Exec(id=os.urandom(32).hex(), container_id=c.id, body=body)
        with self.engine.lock:
            self._execs[ex.id] = ex
            c.execs.append(ex.id)
        self.engine.events.container(c, _action("exec_create", body), execID=ex.id)
        return ex

    def get(self, exec_id: str) -> Exec:
        with self.engine.lock:
            ex = self._execs.get(exec_id)
        if ex is None:
            raise NoSuchExec(exec_id)
        return ex

    def start(self, exec_id: str, tty: bool | None = None) -> Exec:
        """Start the exec; its output goes to `ex.output` (subscribe first)."""
        engine = self.engine
        ex = self.get(exec_id)
        c = engine.containers.get(ex.container_id)
        with engine.lock:
            if ex.running or ex.exit_code is not None:
                raise Conflict(f"Error: Exec command {ex.id} has already run")
            live = engine.live(c.id)
            if live is None:
                raise NotRunning(c.id)
            ex.running = True
        body = ex.body
        engine.events.container(c, _action("exec_start", body), execID=ex.id)
        terminal = bool(body.get("Tty") if tty is None else tty)
        try:
            try:
                user = users.resolve(live.rootfs, body.get("User") or c.config.get("User") or "",
                                     c.host_config.get("GroupAdd") or [])
                process = runtime_spec.exec_process(
                    live.spec["process"], {**body, "Tty": terminal}, user, c.config["Env"]
                )
            except SpecError as e:
                raise InvalidParameter(str(e)) from None
            io = make_fifos(engine.exec_dir(c), ex.id[:16],
                            stdin=bool(body.get("AttachStdin")), terminal=terminal)
            ex.io = ProcessIO(
                io, ex.output.publish, on_close_stdin=lambda: engine.close_io(c.id, ex.id)
            )
            try:
                ex.pid = engine.executor.exec(c.id, ex.id, process, io)
            except ExecutorError as e:
                ex.io.close()
                with engine.lock:
                    ex.exit_code = e.exit_code
                raise EngineError(str(e)) from None
            ex.io.start_copying()
        except BaseException:
            with engine.lock:
                ex.running = False
                if ex.exit_code is None:
                    ex.exit_code = 126  # as Docker: the command could not be run
            ex.done.set()
            raise
        threading.Thread(target=self._wait, args=(ex,), daemon=True).start()
        return ex

    def _wait(self, ex: Exec) -> None:
        try:
            code = self.engine.executor.wait(ex.container_id, ex.id).code
        except ExecutorError:
            code = 137
        assert ex.io is not None
        ex.io.wait_drained()
        ex.io.close()
        with self.engine.lock:
            ex.running = False
            ex.exit_code = code
            self.engine.changed.notify_all()
        with contextlib.suppress(NoSuchContainer):  # removed meanwhile (rm -f)
            c = self.engine.containers.get(ex.container_id)
            self.engine.events.container(c, "exec_die", execID=ex.id, exitCode=str(code))
        ex.done.set()
        ex.output.publish("exit", None)

    def resize(self, exec_id: str, height: int, width: int) -> None:
        ex = self.get(exec_id)
        if not ex.running:
            raise Conflict(f"Exec {exec_id} is not running")
        try:
            self.engine.executor.resize(ex.container_id, ex.id, height, width)
        except ExecutorError as e:
            raise EngineError(str(e)) from None

    def container_exited(self, cid: str) -> None:
        """The container's exit ended its execs too (under the engine's lock)."""
        for ex in self._execs.values():
            if ex.container_id == cid and ex.running:
                ex.running = False

    def forget(self, exec_id: str) -> None:
        """An exec the daemon itself ran (a health probe) is done: no trace is kept."""
        with self.engine.lock:
            ex = self._execs.pop(exec_id, None)
            if ex is not None:
                with contextlib.suppress(NoSuchContainer, ValueError):
                    self.engine.containers.get(ex.container_id).execs.remove(exec_id)

    def forget_container(self, cid: str) -> None:
        """The container is removed: so are its execs (under the engine's lock)."""
        for exec_id in [e for e, ex in self._execs.items() if ex.container_id == cid]:
            del self._execs[exec_id]


def _action(verb: str, body: dict) -> str:
    """dockerd's "exec_start: sh -c date": the verb and the command, a compromise
    it keeps for old clients (a filter on the verb alone matches by prefix)."""
    cmd = [str(a) for a in body.get("Cmd") or []]
    return f"{verb}: {cmd[0] if cmd else ''} {' '.join(cmd[1:])}"
