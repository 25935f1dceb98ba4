"""`docker pause` / `unpause`: the freezer cgroup stops every process of a container.

A paused container still runs (State.Running) but nothing in it is scheduled: a
counter it prints stops counting, and starts again after unpause. Signals meant to
end it (stop, kill, rm -f) thaw it, as dockerd does, since a frozen process cannot
act on them.
"""

from __future__ import annotations

import time

from tests.behaviour.clients import wait_until

COUNTER = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done"
TRAP_TERM = 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done'


def detached(clients, *command: str) -> str:  # type: ignore[no-untyped-def]
    name = clients.name()
    result = clients.docker("run", "-d", "--name", name, "busybox", *command)
    assert result.returncode == 0, result.stderr
    return name


def counted(clients, name: str) -> int:  # type: ignore[no-untyped-def]
    return len(clients.docker("logs", name).stdout.split())


def test_pause_freezes_and_unpause_thaws(cli, clients) -> None:
    name = detached(clients, "sh", "-c", COUNTER)
    wait_until(lambda: counted(clients, name) > 3, 10, "the counter to count")
    assert cli("pause", name).returncode == 0
    state = clients.inspect(name)["State"]
    assert (state["Status"], state["Paused"], state["Running"]) == ("paused", True, True)
    ps = clients.docker("ps", "--filter", f"name={name}", "--format", "{{.Status}}").stdout
    assert ps.strip().endswith("(Paused)"), ps
    time.sleep(0.3)  # the last lines written before the freeze reach the log
    frozen_at = counted(clients, name)
    time.sleep(1)
    assert counted(clients, name) == frozen_at  # 20 lines a second, had it run
    assert cli("unpause", name).returncode == 0
    state = clients.inspect(name)["State"]
    assert (state["Status"], state["Paused"], state["Running"]) == ("running", False, True)
    wait_until(lambda: counted(clients, name) > frozen_at + 3, 10, "the counter to go on")


def test_pause_and_unpause_refuse_what_makes_no_sense(clients) -> None:
    name = detached(clients, "sleep", "60")
    cid = clients.inspect(name)["Id"]
    result = clients.docker("unpause", name)
    assert result.returncode != 0 and f"Container {cid} is not paused" in result.stderr
    assert clients.docker("pause", name).returncode == 0
    result = clients.docker("pause", name)
    assert result.returncode != 0 and f"Container {cid} is already paused" in result.stderr
    result = clients.docker("exec", name, "true")
    assert result.returncode != 0
    assert f"Container {name} is paused, unpause the container before exec" in result.stderr
    assert clients.docker("unpause", name).returncode == 0
    stopped = clients.name()
    assert clients.docker("create", "--name", stopped, "busybox", "true").returncode == 0
    result = clients.docker("pause", stopped)
    stopped_id = clients.inspect(stopped)["Id"]
    assert result.returncode != 0 and f"Container {stopped_id} is not running" in result.stderr
    assert clients.api("POST", f"/containers/{stopped}/pause").status == 409


def test_stop_kill_and_rm_end_a_paused_container(clients) -> None:
    trapping = detached(clients, "sh", "-c", TRAP_TERM)
    wait_until(lambda: "ready" in clients.docker("logs", trapping).stdout, 10, "ready")
    assert clients.docker("pause", trapping).returncode == 0
    began = time.monotonic()
    assert clients.docker("stop", "-t", "10", trapping).returncode == 0
    assert time.monotonic() - began < 5  # SIGTERM acted on once thawed, not the timeout
    assert clients.inspect(trapping)["State"]["ExitCode"] == 7

    killed = detached(clients, "sleep", "60")
    assert clients.docker("pause", killed).returncode == 0
    assert clients.docker("kill", killed).returncode == 0
    wait_until(lambda: not clients.inspect(killed)["State"]["Running"], 10, "the kill")
    state = clients.inspect(killed)["State"]
    assert (state["Status"], state["ExitCode"], state["Paused"]) == ("exited", 137, False)

    removed = detached(clients, "sleep", "60")
    assert clients.docker("pause", removed).returncode == 0
    assert clients.docker("rm", "-f", removed).returncode == 0
    assert clients.docker("inspect", removed).returncode != 0
