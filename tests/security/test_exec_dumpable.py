"""The exec child before execve: no process of the container may read it.

In stage 2 `docker exec` forks the daemon (runc, in stages 3 and 4), and the child
joins the container before it execs the command: until then its memory is the
daemon's (other containers' environments among it) and its /proc/PID/exe the host's
Python. Had it stayed dumpable, a process of the container with the same uid and
capabilities could open its /proc/PID/mem or /proc/PID/exe (the way in of
CVE-2019-5736). runc makes it non-dumpable before it joins; so does libcontainer
(init.enter_container).

The attack: a watcher as the container's pid 1 opens every /proc/PID/mem and
/proc/PID/exe it can see, again and again, while the test runs `true` in the container
200 times; each open that succeeds is written down with the process's name (comm,
which anyone may read). After execve the process is `sleep`, the container's own
program, which the watcher may legitimately open; any other name was caught before
execve. (A process gone before its name could be read leaves an empty name, which
proves nothing either way: `sleep 0.05` rather than `true` makes those rare.)
"""

from __future__ import annotations

import time

from tests.behaviour.clients import Clients

EXECS = 200
BUDGET = 150.0  # seconds: the attack is bounded in time, whatever the engine's speed

WATCHER = r"""
while [ ! -e /tmp/stop ]; do
  for d in /proc/[0-9]*; do
    [ "$d" = /proc/1 ] && continue
    if true 2>/dev/null 3<"$d/mem"; then echo "mem $(cat "$d/comm" 2>/dev/null)" >>/tmp/got; fi
    if true 2>/dev/null 4<"$d/exe"; then echo "exe $(cat "$d/comm" 2>/dev/null)" >>/tmp/got; fi
  done
done
echo done >/tmp/finished
exec sleep 600
"""


def test_a_process_in_the_container_cannot_read_an_exec_before_its_execve(
        clients: Clients) -> None:
    name = clients.name()
    started = clients.docker("run", "-d", "--name", name, "busybox", "sh", "-c", WATCHER)
    assert started.returncode == 0, started.stderr
    done = 0
    deadline = time.monotonic() + BUDGET
    while done < EXECS and time.monotonic() < deadline:
        created = clients.api("POST", f"/containers/{name}/exec",
                              {"Cmd": ["sleep", "0.05"], "AttachStdout": True,
                               "AttachStderr": True})
        assert created.status == 201, created.body
        exec_id = created.json()["Id"]
        ran = clients.api("POST", f"/exec/{exec_id}/start", {"Detach": False, "Tty": False})
        assert ran.status == 200, ran.body
        done += 1
    assert done >= 50, f"only {done} execs in {BUDGET:.0f} s"
    stop = clients.docker("exec", name, "sh", "-c",
                          "touch /tmp/stop; while [ ! -e /tmp/finished ]; do sleep 0.1; done;"
                          " cat /tmp/got 2>/dev/null; true", timeout=60)
    assert stop.returncode == 0, stop.stderr
    names = [line.split(" ", 1)[1] for line in stop.stdout.splitlines()]
    caught = [name for name in names if name not in ("", "sleep", "sh", "cat", "touch")]
    assert caught == [], f"{len(caught)} opens of a process before its execve: {caught[:5]}"
    assert "sleep" in names  # the watcher did see the execs, once they were the container's
