"""Restart policies across a daemon restart, on every stage and the reference.

A daemon that stops (SIGTERM, no live restore) stops its containers first; when it
starts again it starts the `always` ones, even those stopped by hand, and the
`unless-stopped` ones nobody stopped by hand (the shutdown does not count), as
dockerd's restore does. With live restore (stages 3-4), a container that kept running
while the daemon was down is adopted, not restarted; one that died meanwhile is
started again by its policy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.engines import DOCKER_CLI, ENGINES, Engine, start_engine

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")
STAGES = [s for s in ("stage1", "stage2", "stage3", "stage4", "reference")
          if s in ENGINES and s in (os.environ.get("WB_ENGINES") or "stage2").split(",")]
SPLIT_STAGES = [s for s in STAGES if s in ("stage3", "stage4")]


def docker(engine: Engine, *args: str) -> str:
    result = subprocess.run([DOCKER_CLI, "-H", engine.host, *args], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, (args, result.stderr, engine.log_tail())
    return result.stdout


def inspect(engine: Engine, name: str) -> dict:
    return json.loads(docker(engine, "inspect", name))[0]


def poll(predicate: Callable[[], object], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def stop_daemon(engine: Engine) -> None:
    """SIGTERM by PID, as an init system stops it; wait for it to exit."""
    engine.process.send_signal(signal.SIGTERM)
    engine.process.wait(60)


@pytest.mark.parametrize("stage", STAGES)
def test_always_and_unless_stopped_across_a_daemon_restart(stage: str) -> None:
    with start_engine(stage) as engine:
        for name, policy in (("always-up", "always"), ("always-stopped", "always"),
                             ("unless-up", "unless-stopped"),
                             ("unless-stopped", "unless-stopped"), ("never", "no")):
            docker(engine, "run", "-d", "--name", name, "--restart", policy,
                   "--stop-timeout", "1", "busybox", "sleep", "300")
        docker(engine, "stop", "-t", "1", "always-stopped")
        docker(engine, "stop", "-t", "1", "unless-stopped")

        stop_daemon(engine)
        engine.restart_daemon()
        try:
            for name in ("always-up", "always-stopped", "unless-up"):
                poll(lambda n=name: inspect(engine, n)["State"]["Running"],  # type: ignore[misc]
                     f"{name} to run again")
            for name in ("unless-stopped", "never"):
                assert inspect(engine, name)["State"]["Status"] == "exited", name
        finally:
            docker(engine, "rm", "-f", "always-up", "always-stopped", "unless-up",
                   "unless-stopped", "never")


@pytest.mark.parametrize("stage", SPLIT_STAGES)
def test_live_restore_adopts_the_running_and_restarts_the_dead(stage: str) -> None:
    with start_engine(stage, ("--live-restore",)) as engine:
        for name in ("kept", "died"):
            docker(engine, "run", "-d", "--name", name, "--restart", "always",
                   "busybox", "sleep", "300")
        kept, died = (inspect(engine, n)["State"]["Pid"] for n in ("kept", "died"))
        engine.kill_daemon()
        os.kill(died, signal.SIGKILL)  # the container we made dies while nobody watches
        engine.restart_daemon()
        try:
            state = inspect(engine, "kept")
            assert (state["State"]["Pid"], state["RestartCount"]) == (kept, 0)
            poll(lambda: (s := inspect(engine, "died")["State"])["Running"]
                 and s["Pid"] not in (0, died), "died to be started again")
        finally:
            docker(engine, "rm", "-f", "kept", "died")
