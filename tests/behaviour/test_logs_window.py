"""`docker logs --since/--until`: only the lines written in the window are shown."""

from __future__ import annotations

import time


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_since_and_until(clients, cli) -> None:  # the docker CLI's and ours
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "busybox", "sh", "-c",
                      "echo early; while [ ! -e /go ]; do sleep 0.1; done; echo late; "
                      "sleep 60"))
    clients.wait_until(lambda: "early" in ok(clients.docker("logs", name)), what="early")
    time.sleep(1.1)  # the CLI sends whole seconds for a duration: a clear gap either side
    middle = time.time()
    time.sleep(1.1)
    ok(clients.docker("exec", name, "touch", "/go"))
    clients.wait_until(lambda: "late" in ok(clients.docker("logs", name)), what="late")
    stamp = f"{middle:.9f}"
    assert ok(cli("logs", "--since", stamp, name)).split() == ["late"]
    assert ok(cli("logs", "--until", stamp, name)).split() == ["early"]
    assert ok(cli("logs", "--since", "1h", name)).split() == ["early", "late"]
    reply = clients.api("GET", f"/containers/{name}/logs?stdout=1&since=soon")
    assert reply.status in (400, 500)  # 20.10 lets strconv's error be a 500
