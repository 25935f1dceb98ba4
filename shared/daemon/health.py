"""Health checks: the daemon runs a probe in the container, now and then, and keeps score.

A process that is alive is not necessarily working: a web server may run while it
answers nothing. The kernel cannot tell, so Docker lets the image or the user
name a command that can: `HEALTHCHECK CMD curl -f http://localhost/` in a Dockerfile,
`--health-cmd` at `docker run`. The daemon runs it as an exec (the container's own
namespaces, cgroup and user: execs.py) every Interval, and keeps State.Health:

    starting  --probe passes-->  healthy  --Retries probes fail in a row-->  unhealthy

Failures during StartPeriod do not count while the container is still "starting" (a
slow boot is not a failure); probes then run every StartInterval instead. Nothing is
done about an unhealthy container by the daemon itself: it is news (a `health_status`
event, `docker ps` shows it) for whoever supervises above (an orchestrator, a
`docker ps --filter health=unhealthy` in a script).

Everything here is moby's daemon/health.go, in the same shape: one monitor thread per
running container, stopped when the container stops, dies or is paused, started
again at the next start. The configuration is merged at create as daemon/commit.go's
merge does, and validated as daemon/container.go's validateHealthCheck.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared import goduration
from shared.daemon.execs import Exec
from shared.daemon.executor import ExecutorError
from shared.daemon.state import Container, rfc3339
from shared.errors import EngineError, InvalidParameter

if TYPE_CHECKING:
    from shared.daemon.engine import Engine

# moby's daemon/health.go constants (durations in nanoseconds, as the API's)
MAX_OUTPUT_LEN = 4096  # a probe's output kept; the rest is cut, "..." marks the cut
DEFAULT_INTERVAL = 30 * goduration.SECOND  # also the wait before the first probe
DEFAULT_TIMEOUT = 30 * goduration.SECOND
DEFAULT_START_PERIOD = 0
DEFAULT_START_INTERVAL = 5 * goduration.SECOND
DEFAULT_RETRIES = 3
MAX_LOG_ENTRIES = 5
MINIMUM_DURATION = goduration.MILLISECOND  # api/types/container.MinimumDuration
EXEC_START_TIMEOUT = 30.0  # s: a wedged exec start is given up (moby's separate timer)

STARTING, HEALTHY, UNHEALTHY, NONE = "starting", "healthy", "unhealthy", "none"

FIELDS = ("Interval", "Timeout", "StartPeriod", "StartInterval", "Retries")

log = logging.getLogger("whalebones")


# ------------------------------------------------------------------ at create


def validate(hc: object) -> None:
    """The request's own Healthcheck, as dockerd checks it (daemon/container.go
    validateHealthCheck): a 400 with its words. The image's is not checked."""
    if not isinstance(hc, dict):
        return
    for key in ("Interval", "Timeout"):
        value = hc.get(key) or 0
        if value != 0 and value < MINIMUM_DURATION:
            raise InvalidParameter(f"{key} in Healthcheck cannot be less than "
                                   f"{goduration.format(MINIMUM_DURATION)}")
    if (hc.get("Retries") or 0) < 0:
        raise InvalidParameter("Retries in Healthcheck cannot be negative")
    for key in ("StartPeriod", "StartInterval"):
        value = hc.get(key) or 0
        if value != 0 and value < MINIMUM_DURATION:
            raise InvalidParameter(f"{key} in Healthcheck cannot be less than "
                                   f"{goduration.format(MINIMUM_DURATION)}")


def merge(user: dict | None, image: dict | None) -> dict | None:
    """The container's Healthcheck: the request's, each field it leaves at zero
    taken from the image's (moby's merge in daemon/commit.go). Zero fields are left
    out, as Go's omitempty leaves them out of `docker inspect`."""
    if not image:
        chosen = dict(user) if user else None
    elif not user:
        chosen = dict(image)
    else:
        chosen = dict(user)
        if not chosen.get("Test"):
            chosen["Test"] = image.get("Test")
        for key in FIELDS:
            if not chosen.get(key):
                chosen[key] = image.get(key)
    if chosen is None:
        return None
    return {k: v for k, v in chosen.items() if v not in (None, 0, [], "")}


def probe_command(c: Container) -> list[str] | None:
    """What a probe runs, or None when there is no check (none given, or NONE).
    CMD runs its arguments as they are; CMD-SHELL, its one string with the shell."""
    test = (c.config.get("Healthcheck") or {}).get("Test") or []
    if not test or test[0] not in ("CMD", "CMD-SHELL"):
        if test and test[0] != "NONE":
            log.warning("Unknown healthcheck type '%s' (expected 'CMD') in container %s",
                        test[0], c.id)
        return None
    if test[0] == "CMD-SHELL":
        return [*(c.config.get("Shell") or ["/bin/sh", "-c"]), *test[1:]]
    return list(test[1:])


def status(c: Container) -> str:
    """What `docker ps --filter health=` compares: "none" without a check."""
    if c.health is None:
        return NONE
    return c.health.get("Status") or UNHEALTHY  # moby: no status yet reads as unhealthy


def status_suffix(c: Container) -> str:
    """`docker ps`'s "Up 3 seconds (healthy)": moby's Health.String."""
    if c.health is None:
        return ""
    s = status(c)
    return " (health: starting)" if s == STARTING else f" ({s})"


# ------------------------------------------------------------------ one probe


class LimitedBuffer:
    """Up to MAX_OUTPUT_LEN bytes; more is dropped and marked (moby's limitedBuffer)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.truncated = False

    def write(self, chunk: bytes) -> None:
        keep = max(0, min(MAX_OUTPUT_LEN - len(self.data), len(chunk)))
        self.data += chunk[:keep]
        if keep < len(chunk):
            self.truncated = True

    def text(self) -> str:
        out = self.data.decode(errors="replace")
        return out + "..." if self.truncated else out


def _duration(c: Container, key: str, default: int) -> int:
    return (c.config.get("Healthcheck") or {}).get(key) or default


def run_probe(engine: Engine, c: Container, cmd: list[str], stop: threading.Event) -> dict:
    """One run of the check, as an exec; the result for State.Health.Log. A probe
    that outlives its Timeout is killed and counts as a failure (ExitCode -1)."""
    started = time.time()
    if not cmd:
        return _result(started, -1, f"healthcheck for container {c.id} has no command")
    body = {"Cmd": cmd, "AttachStdout": True, "AttachStderr": True, "Tty": False,
            "User": c.config.get("User") or "", "WorkingDir": c.config.get("WorkingDir") or ""}
    try:
        ex = engine.execs.create(c.id, body)
    except EngineError as e:
        return _result(started, -1, str(e))
    try:
        return _run_exec(engine, c, ex, started, stop)
    finally:
        # A probe's exec is nobody's to inspect once it is done: dockerd drops it from
        # the container's ExecIDs at its exit; a check every second must not pile up.
        engine.execs.forget(ex.id)


def _run_exec(engine: Engine, c: Container, ex: Exec, started: float,
              stop: threading.Event) -> dict:
    output = LimitedBuffer()
    sub = ex.output.subscribe()

    def read() -> None:  # stdout and stderr, interleaved, as moby's probe buffers them
        while True:
            stream, data = sub.get()
            if stream == "exit":
                return
            if data is not None:
                output.write(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        try:
            engine.execs.start(ex.id)
        except EngineError as e:
            return _result(started, -1, str(e))
        timeout = _duration(c, "Timeout", DEFAULT_TIMEOUT)
        deadline = time.monotonic() + timeout / goduration.SECOND
        # Waited in slices: a stop (the container's exit) ends the wait early.
        while not ex.done.wait(min(0.2, max(0.0, deadline - time.monotonic()))):
            if stop.is_set() or time.monotonic() >= deadline:
                break
        if not ex.done.is_set():
            with contextlib.suppress(ExecutorError):
                engine.executor.kill(c.id, signal.SIGKILL, exec_id=ex.id)
            # Wait for it to go, so that dying probes do not pile up.
            ex.done.wait(EXEC_START_TIMEOUT)
            reader.join(1.0)
            limit = goduration.format(timeout)
            out = output.text()
            msg = (f"Health check exceeded timeout ({limit}): {out}" if out
                   else f"Health check exceeded timeout ({limit})")
            return _result(started, -1, msg)
        reader.join(5.0)  # the output is all copied before the exit is published
    finally:
        ex.output.unsubscribe(sub)
    code = ex.exit_code
    if code is None:
        return _result(started, -1, f"healthcheck for container {c.id} has no exit code")
    return _result(started, code, output.text())


def _result(started: float, code: int, output: str) -> dict:
    return {"Start": started, "End": time.time(), "ExitCode": code, "Output": output}


# ------------------------------------------------------------------ the monitor


@dataclass
class Monitor:
    """One container's probing thread; `stop` ends it (moby's monitor channel)."""

    cid: str
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class HealthMonitors:
    """The engine's monitors, at most one per container (engine.health)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._monitors: dict[str, Monitor] = {}

    def init(self, c: Container) -> None:
        """A container (re)started or adopted after a daemon restart: its health
        starts over at "starting", its Log kept (moby's initHealthMonitor)."""
        if probe_command(c) is None:
            return
        with self.engine.lock:
            self._close(c)
            health = c.health or {"Log": []}
            health.update(Status=STARTING, FailingStreak=0)
            c.health = health
            self._open(c)

    def update(self, c: Container) -> None:
        """Probing wanted only while it runs unpaused (moby's updateHealthMonitor):
        called at pause and unpause."""
        if c.health is None:
            return
        with self.engine.lock:
            if c.state.status == "running" and probe_command(c) is not None:
                self._open(c)
            else:
                self._close(c)

    def stop(self, c: Container) -> None:
        """The container stopped or died: its monitor ends, and, as in moby, a check
        that no longer runs reads "unhealthy"."""
        with self.engine.lock:
            self._close(c)

    def stop_all(self) -> None:
        with self.engine.lock:
            for m in self._monitors.values():
                m.stop.set()
            self._monitors.clear()

    def _open(self, c: Container) -> None:
        if c.id in self._monitors:
            return
        m = Monitor(c.id)
        m.thread = threading.Thread(target=self._run, args=(c, m), daemon=True,
                                    name=f"health-{c.short_id}")
        self._monitors[c.id] = m
        m.thread.start()

    def _close(self, c: Container) -> None:
        m = self._monitors.pop(c.id, None)
        if m is not None:
            m.stop.set()
            if c.health is not None:
                c.health["Status"] = UNHEALTHY

    def _interval(self, c: Container) -> float:
        """Seconds to the next probe: StartInterval while starting within the start
        period, Interval otherwise."""
        interval = _duration(c, "Interval", DEFAULT_INTERVAL)
        start_period = _duration(c, "StartPeriod", DEFAULT_START_PERIOD)
        if (time.time() - c.state.started_at) * goduration.SECOND < start_period:
            with self.engine.lock:
                starting = c.health is not None and c.health.get("Status") == STARTING
            if starting:
                interval = _duration(c, "StartInterval", DEFAULT_START_INTERVAL)
        return interval / goduration.SECOND

    def _run(self, c: Container, m: Monitor) -> None:
        cmd = probe_command(c) or []
        while not m.stop.wait(self._interval(c)):
            try:
                result = run_probe(self.engine, c, cmd, m.stop)
            except Exception as e:  # a probe's failure is a result, never the monitor's end
                log.warning("Health check for container %s error: %s", c.id, e)
                result = _result(time.time(), -1, str(e))
            self._record(c, m, result)

    def _record(self, c: Container, m: Monitor, result: dict) -> None:
        """moby's handleProbeResult: the Log, the streak, the status; an event when
        the status changes."""
        engine = self.engine
        with engine.lock:
            if m.stop.is_set() or c.health is None:
                return  # stopped while probing: the result is nobody's
            health = c.health
            old = health.get("Status")
            health["Log"] = [*health.get("Log", []), result][-MAX_LOG_ENTRIES:]
            if result["ExitCode"] == 0:
                health["FailingStreak"] = 0
                health["Status"] = HEALTHY
            else:
                count = True
                if old == STARTING:
                    start_period = _duration(c, "StartPeriod", DEFAULT_START_PERIOD)
                    since_start = (result["Start"] - c.state.started_at) * goduration.SECOND
                    count = since_start >= start_period
                if count:
                    health["FailingStreak"] = health.get("FailingStreak", 0) + 1
                    retries = (c.config.get("Healthcheck") or {}).get("Retries") or 0
                    if health["FailingStreak"] >= (retries if retries > 0 else DEFAULT_RETRIES):
                        health["Status"] = UNHEALTHY
            new = health["Status"]
            if new != old:
                with contextlib.suppress(OSError):
                    engine.containers.save(c)  # best effort, as moby's
        if new != old:
            engine.events.container(c, f"health_status: {new}")


def view(c: Container) -> dict | None:
    """State.Health as `docker inspect` shows it."""
    if c.health is None:
        return None
    return {
        "Status": status(c),
        "FailingStreak": c.health.get("FailingStreak", 0),
        "Log": [{"Start": rfc3339(r["Start"]), "End": rfc3339(r["End"]),
                 "ExitCode": r["ExitCode"], "Output": r["Output"]}
                for r in c.health.get("Log", [])],
    }
