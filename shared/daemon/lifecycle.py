"""The verbs that act on a running container: wait, kill, stop, restart, pause, top.

Each is a request to the executor plus Docker's rules around it: which signal ends a
container, how long `stop` waits before SIGKILL, that a paused container is thawed to
die, that a kill sent during a start waits for it. They are the Engine's methods
(`class Engine(Lifecycle)`, engine.py), kept apart from the run path they act on.
"""

from __future__ import annotations

import contextlib
import signal as signals
import threading
import time

from shared.daemon import restartpolicy, top
from shared.daemon.events import Events
from shared.daemon.executor import Executor, ExecutorError
from shared.daemon.health import HealthMonitors
from shared.daemon.restartpolicy import RestartManager
from shared.daemon.state import Container, ContainerStore
from shared.errors import Conflict, EngineError, InvalidParameter, NotModified, NotRunning

DEFAULT_STOP_TIMEOUT = 10
KILL_TIMEOUT = 30.0  # how long stop waits for the exit after SIGKILL
START_SETTLE = 60.0  # how long kill and stop wait for a start in progress to finish


def parse_signal(value: str | int | None, default: int = signals.SIGKILL) -> int:
    """"KILL", "SIGKILL", "9" -> 9, as `docker kill -s` accepts them."""
    if value is None or value == "":
        return default
    text = str(value).strip().upper()
    if text.isdigit():
        number = int(text)
        if 0 < number < signals.NSIG:
            return number
    else:
        name = text if text.startswith("SIG") else "SIG" + text
        sig = getattr(signals.Signals, name, None) if name.isidentifier() else None
        if sig is not None:
            return int(sig)
    raise InvalidParameter(f"Invalid signal: {value}")


class Lifecycle:
    # What the Engine provides (engine.py).
    containers: ContainerStore
    executor: Executor
    lock: threading.RLock
    changed: threading.Condition
    _live: dict
    _exits: dict[str, int]
    _removed: set[str]
    _restarting: set[str]
    shutting_down: bool
    events: Events
    health: HealthMonitors

    def start(self, ref: str, by_policy: bool = False) -> None: ...

    def restart_manager(self, c: Container) -> RestartManager:
        raise NotImplementedError  # the Engine's

    # ---------------------------------------------------------------- waiting

    def wait(self, ref: str, condition: str = "not-running") -> Container:
        """Block until the condition holds; returns the container (its State tells)."""
        return self.wait_for(self.containers.get(ref), condition)

    def exits_seen(self, c: Container) -> int:
        """How many exits of `c` this daemon has seen: what a next-exit wait counts from."""
        with self.lock:
            return self._exits.get(c.id, 0)

    def wait_for(self, c: Container, condition: str = "not-running",
                 exits: int | None = None) -> Container:
        """As wait(), for a container already looked up: it may be removed meanwhile
        (that is what condition=removed waits for). `exits`: exits_seen() when the
        wait was asked for (a next-exit after that one), if not now."""
        if condition not in ("not-running", "next-exit", "removed"):
            raise InvalidParameter(f"invalid condition: {condition!r}")
        with self.lock:
            if exits is None:
                exits = self._exits.get(c.id, 0)
            while True:
                if condition == "removed":
                    if c.id in self._removed:
                        return c
                elif condition == "next-exit":
                    if self._exits.get(c.id, 0) > exits:
                        return c
                elif not c.state.running and c.state.status not in ("starting",
                                                                     "restarting"):
                    return c
                if c.id in self._removed:
                    return c
                self.changed.wait()


    def _start_settled(self, c: Container) -> None:
        """Wait out a start that is in progress. dockerd holds a container's lock for
        the whole of a start, so a kill sent meanwhile waits for it rather than fail
        with "not running". It matters: `docker run`'s signal proxy may send Ctrl-C
        the moment the program has printed, before the runtime's `start` (on stages
        3 and 4 a gRPC call and a runc process away) has returned to us."""
        with self.lock:
            self.changed.wait_for(lambda: c.state.status != "starting", timeout=START_SETTLE)

    def _wait_stopped(self, c: Container, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.lock:
            while c.state.running or c.id in self._live:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self.changed.wait(remaining)
        return True

    # ---------------------------------------------------------------- signals

    def _stopped_by_user(self, c: Container, ending: bool) -> bool:
        """A stop or kill from the user (dockerd's killWithSignal): one meant to end
        the container (`ending`: SIGKILL or its stop signal) cancels its restart
        policy for this run (ExitOnNext); any marks it stopped by hand, which keeps an
        unless-stopped container down. True if the container was only waiting for its
        policy's restart: then nothing runs to be signalled, and it is now exited."""
        with self.lock:
            if ending:
                self.restart_manager(c).cancel()
            if not self.shutting_down:
                c.manually_stopped = True
            if c.state.status == "restarting":
                if ending:
                    c.state.status = "exited"
                self.containers.save(c)
                self.changed.notify_all()
                return True
            self.containers.save(c)
            return False

    def kill(self, ref: str, sig: str | int | None = None) -> None:
        c = self.containers.get(ref)
        number = parse_signal(sig)
        self._start_settled(c)
        if c.state.status == "restarting" and self._stopped_by_user(
                c, number in (signals.SIGKILL, self._stop_signal(c))):
            return
        if not c.state.running:
            raise NotRunning(c.id)
        self._stopped_by_user(c, number in (signals.SIGKILL, self._stop_signal(c)))
        try:
            self.executor.kill(c.id, number)
        except ExecutorError as e:
            raise EngineError(f"Cannot kill container: {c.id}: {e}") from None
        self.events.container(c, "kill", signal=str(number))
        if number in (signals.SIGKILL, self._stop_signal(c)):
            self._thaw_to_exit(c)
        if number == signals.SIGKILL:
            self._wait_stopped(c, None)

    def _stop_signal(self, c: Container) -> int:
        return parse_signal(c.config.get("StopSignal"), signals.SIGTERM)

    def _thaw_to_exit(self, c: Container) -> None:
        """A paused container sent a signal meant to end it is thawed, as dockerd does:
        a frozen process cannot act on a signal (on cgroup v1, not even die of
        SIGKILL), so the signal waits, pending, until the thaw."""
        if c.state.status == "paused":
            with contextlib.suppress(EngineError):  # it exited meanwhile: nothing to thaw
                self._freeze(c, False)

    def _kill_all(self, c: Container) -> None:
        """SIGKILL to every process of the container; thawed, so that they can die."""
        with contextlib.suppress(ExecutorError):
            self.executor.kill(c.id, signals.SIGKILL, all=True)
            self.events.container(c, "kill", signal=str(int(signals.SIGKILL)))
        self._thaw_to_exit(c)

    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        """The stop signal (the container's, or `signal`: `docker stop --signal`), then
        SIGKILL when the grace period is over."""
        c = self.containers.get(ref)
        self._start_settled(c)
        number = parse_signal(signal) if signal else self._stop_signal(c)
        if c.state.status == "restarting" and self._stopped_by_user(c, True):
            return
        if not c.state.running:
            raise NotModified("container already stopped")
        self._stopped_by_user(c, True)
        if timeout is None:
            timeout = c.config.get("StopTimeout", DEFAULT_STOP_TIMEOUT)
        with contextlib.suppress(ExecutorError):
            self.executor.kill(c.id, number)
            self.events.container(c, "kill", signal=str(number))
        self._thaw_to_exit(c)
        if timeout is not None and timeout < 0:
            self._wait_stopped(c, None)
        elif not self._wait_stopped(c, float(timeout)):
            self._kill_all(c)
            if not self._wait_stopped(c, KILL_TIMEOUT):
                # SIGKILL cannot be ignored: the executor did not deliver it (say,
                # containerd is down). Say so rather than hang the client (or shutdown).
                raise EngineError(f"cannot stop container {c.id[:12]}: no exit "
                                  f"{KILL_TIMEOUT:.0f} s after SIGKILL")
        self.events.container(c, "stop")  # after its "die", as dockerd's

    def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        c = self.containers.get(ref)
        if signal:
            parse_signal(signal)  # a bad one refused before anything is stopped
        if c.state.running or c.state.status == "restarting":
            self._restarting.add(c.id)  # its exit is not an end: --rm keeps it
            try:
                self.stop(c.id, timeout, signal)
            finally:
                self._restarting.discard(c.id)
        self.start(c.id)  # a new start: RestartCount is 0 again, as dockerd's
        self.events.container(c, "restart")

    # ---------------------------------------------------------------- pause

    def pause(self, ref: str) -> None:
        """`docker pause`: freeze every process of the container in the freezer
        cgroup. Unlike SIGSTOP, which a process's parent can see and which reaches one
        process at a time, the whole group stops at once and cannot tell."""
        c = self.containers.get(ref)
        self._start_settled(c)
        with self.lock:
            restartpolicy.refuse_if_restarting(c.state.status, c.id)
            if not c.state.running:
                raise NotRunning(c.id)
            if c.state.status == "paused":
                raise Conflict(f"Container {c.id} is already paused")
        self._freeze(c, True)

    def unpause(self, ref: str) -> None:
        c = self.containers.get(ref)
        with self.lock:
            if c.state.status != "paused":
                raise Conflict(f"Container {c.id} is not paused")
        self._freeze(c, False)

    def _freeze(self, c: Container, paused: bool) -> None:
        try:
            (self.executor.pause if paused else self.executor.resume)(c.id)
        except ExecutorError as e:
            verb = "pause" if paused else "unpause"
            raise EngineError(f"Cannot {verb} container {c.id}: {e}") from None
        with self.lock:
            if c.state.running:  # not if it exited meanwhile: its exit is the news
                c.state.status = "paused" if paused else "running"
                self.health.update(c)  # no probes into a frozen container
                self.containers.save(c)
                self.changed.notify_all()
        self.events.container(c, "pause" if paused else "unpause")

    # ---------------------------------------------------------------- looking in

    def top(self, ref: str, ps_args: str = "") -> dict:
        """`docker top`: the container's processes, as the host's ps shows them."""
        c = self.containers.get(ref)
        restartpolicy.refuse_if_restarting(c.state.status, c.id)
        if not c.state.running:
            raise NotRunning(c.id)
        try:
            pids = self.executor.pids(c.id)
        except ExecutorError as e:
            raise EngineError(str(e)) from None
        return top.processes(pids, ps_args)

    def resize(self, ref: str, height: int, width: int) -> None:
        c = self.containers.get(ref)
        if not c.state.running:
            raise NotRunning(c.id)
        try:
            self.executor.resize(c.id, None, height, width)
        except ExecutorError as e:
            raise EngineError(str(e)) from None
