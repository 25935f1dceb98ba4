"""`docker stop --signal` / `restart --signal` (API 1.42): the signal given, not the
container's stop signal."""

from __future__ import annotations

import pytest


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


TRAP = "trap 'exit 7' USR1; trap 'exit 9' TERM; echo ready; while true; do sleep 0.1; done"


def test_stop_with_a_signal(clients) -> None:
    announced = clients.api("GET", "/_ping").headers["api-version"]
    if tuple(map(int, announced.split("."))) < (1, 42):
        pytest.skip(f"stop's signal parameter came with API 1.42 ({announced} here)")
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "busybox", "sh", "-c", TRAP))
    clients.wait_until(lambda: "ready" in ok(clients.docker("logs", name)), what="ready")
    ok(clients.docker("stop", "--signal", "USR1", name))
    assert clients.inspect(name)["State"]["ExitCode"] == 7
    ok(clients.docker("start", name))
    clients.wait_until(lambda: clients.inspect(name)["State"]["Running"], what="running")
    reply = clients.api("POST", f"/containers/{name}/stop?signal=NOSUCH")
    assert (reply.status, reply.message) == (400, "Invalid signal: NOSUCH")
    assert clients.inspect(name)["State"]["Running"]
    ok(clients.docker("stop", name))  # the container's own: TERM
    assert clients.inspect(name)["State"]["ExitCode"] == 9
