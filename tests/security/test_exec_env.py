"""An exec's env never appears on a command line on the host.

Any local user can read every process's /proc/PID/cmdline (its environ is the owner's
alone). An engine that hands an exec's variables to a helper as arguments (stage 1's
`lxc-attach -v K=V` once did) shows the secrets of `docker exec -e` to the whole host.
The exec is made through the API, so that no client's command line holds it either.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.behaviour.clients import Clients


def cmdlines_holding(secret: bytes) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                line = (proc / "cmdline").read_bytes()
            except OSError:
                continue  # gone meanwhile
            if secret in line:
                shown = line.replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name}: {shown}")
    return found


def test_an_exec_env_is_on_no_command_line(clients: Clients) -> None:
    name = clients.name()
    started = clients.docker("run", "-d", "--name", name, "busybox", "sleep", "60", timeout=60)
    assert started.returncode == 0, started.stderr
    secret = os.urandom(8).hex()
    reply = clients.api("POST", f"/containers/{name}/exec",
                        {"Cmd": ["sh", "-c", 'test -n "$TOKEN" && sleep 5'],
                         "Env": [f"TOKEN={secret}"]})
    assert reply.status == 201, reply.body
    exec_id = reply.json()["Id"]
    reply = clients.api("POST", f"/exec/{exec_id}/start", {"Detach": True})
    assert reply.status == 200, reply.body
    deadline = time.monotonic() + 3
    seen: list[str] = []
    while time.monotonic() < deadline and not seen:
        seen = cmdlines_holding(secret.encode())
        time.sleep(0.05)
    assert seen == []
    running = clients.api("GET", f"/exec/{exec_id}/json").json()
    assert running["Running"] or running["ExitCode"] == 0  # it did get its TOKEN
