"""Health checks across a daemon restart with live restore (stages 3-4): a container
that kept running is adopted and checked again from "starting", as dockerd's restore
calls initHealthMonitor; the probes run through the restored executor."""

from __future__ import annotations

import os

import pytest

from tests.engines import start_engine
from tests.stages.test_restart_policies import SPLIT_STAGES, docker, inspect, poll

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")


@pytest.mark.parametrize("stage", SPLIT_STAGES)
def test_an_adopted_container_is_checked_again(stage: str) -> None:
    with start_engine(stage, ("--live-restore",)) as engine:
        docker(engine, "run", "-d", "--name", "checked", "--health-cmd", "echo up",
               "--health-interval", "200ms", "busybox", "sleep", "300")
        try:
            poll(lambda: (inspect(engine, "checked")["State"].get("Health") or {})
                 .get("Status") == "healthy", "healthy before the restart")
            pid = inspect(engine, "checked")["State"]["Pid"]
            engine.kill_daemon()
            engine.restart_daemon()
            state = inspect(engine, "checked")["State"]
            assert state["Pid"] == pid  # adopted, not restarted
            last = state["Health"]["Log"][-1]["End"]
            # a probe after the restart: a newer result, and healthy again
            poll(lambda: (h := inspect(engine, "checked")["State"]["Health"])["Status"]
                 == "healthy" and h["Log"][-1]["End"] > last, "a probe after the restart")
        finally:
            docker(engine, "rm", "-f", "checked")
