"""Live restore: kill -9 the daemon and its containers live on (stage 3 and later).

From stage 3 on, the daemon is no longer the containers' parent (containerd is, or a
shim in stage 4), and whoever is holds the daemon's FIFOs open: a container that writes
while the daemon is down neither dies of SIGPIPE nor loses what it wrote (up to the
pipe's buffer). With `--live-restore` the next daemon adopts the running containers:
it reopens their FIFOs, appends to their logs, and waits for their exits again.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.engines import ENGINES, Engine, remove_all_and_check, snapshot, start_engine

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")
SPLIT_STAGES = [name for name in ("stage3", "stage4") if name in ENGINES]


@pytest.fixture(params=SPLIT_STAGES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with start_engine(request.param, ("--live-restore",)) as engine:
        before = snapshot(engine)
        yield engine
        remove_all_and_check(engine, before)


def docker(engine: Engine, *args: str, input: str | None = None,
           timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "-H", engine.host, *args], capture_output=True, text=True,
                          input=input, timeout=timeout)


def state(engine: Engine, cid: str) -> dict:
    return json.loads(docker(engine, "inspect", cid).stdout)[0]["State"]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


COUNTER = "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.1; done"


@pytest.mark.parametrize("tty", [False, True], ids=["pipes", "tty"])
def test_a_container_outlives_a_daemon_crash(engine: Engine, tty: bool) -> None:
    cid = docker(engine, "run", "-d", *(["-t"] if tty else []), "busybox", "sh", "-c",
                 COUNTER).stdout.strip()
    pid = state(engine, cid)["Pid"]
    engine.kill_daemon()
    time.sleep(1.5)  # it goes on writing, with no daemon to read
    assert alive(pid), "the container died with the daemon"
    engine.restart_daemon()

    info = state(engine, cid)
    assert info["Running"] and info["Pid"] == pid
    assert cid[:12] in docker(engine, "ps").stdout
    time.sleep(0.5)
    lines = docker(engine, "logs", cid).stdout.split()
    numbers = [int(word.removeprefix("line-")) for word in lines if word.startswith("line-")]
    assert numbers == list(range(len(numbers))), "output was lost or reordered"
    assert len(numbers) >= 15, f"what it wrote while the daemon was down is missing: {lines}"

    assert docker(engine, "exec", cid, "echo", "exec-works").stdout.strip() == "exec-works"
    assert docker(engine, "stop", "-t", "1", cid).returncode == 0
    assert docker(engine, "wait", cid).stdout.strip() in ("137", "143")
    assert not alive(pid)


def test_stdin_still_reaches_the_container_after_a_restart(engine: Engine) -> None:
    cid = docker(engine, "run", "-d", "-i", "busybox", "sh", "-c",
                 "while read line; do echo got-$line; done").stdout.strip()
    engine.kill_daemon()
    time.sleep(0.5)  # the shell, reading, sees no EOF: its input is held open for it
    engine.restart_daemon()
    # attach with stdin: what we type reaches the same shell, and its reply comes back
    attach = subprocess.Popen(["docker", "-H", engine.host, "attach", cid],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert attach.stdin is not None and attach.stdout is not None
        attach.stdin.write(b"hello\n")
        attach.stdin.flush()
        line = attach.stdout.readline()
        assert line == b"got-hello\n", (state(engine, cid), engine.log_tail())
    finally:
        attach.kill()
        attach.wait()
    assert "got-hello" in docker(engine, "logs", cid).stdout
    assert state(engine, cid)["Running"], "the shell's input ended with the old daemon"


def test_an_exit_while_the_daemon_is_down_is_reported(engine: Engine) -> None:
    cid = docker(engine, "run", "-d", "busybox", "sh", "-c",
                 "echo before; sleep 1; exit 7").stdout.strip()
    engine.kill_daemon()
    time.sleep(2)
    engine.restart_daemon()
    assert docker(engine, "wait", cid).stdout.strip() == "7"
    info = state(engine, cid)
    assert not info["Running"] and info["ExitCode"] == 7
    assert docker(engine, "logs", cid).stdout.strip() == "before"


def test_without_live_restore_the_next_daemon_ends_them(engine: Engine) -> None:
    """As dockerd does when live restore is off: containers found running are stopped."""
    engine.command = [arg for arg in engine.command if arg != "--live-restore"]
    cid = docker(engine, "run", "-d", "busybox", "sleep", "60").stdout.strip()
    pid = state(engine, cid)["Pid"]
    engine.kill_daemon()
    engine.restart_daemon()
    info = state(engine, cid)
    assert not info["Running"]
    deadline = time.monotonic() + 10
    while alive(pid):
        assert time.monotonic() < deadline, "the container was left running"
        time.sleep(0.1)


def test_a_tmpfs_volume_stays_shared_across_a_daemon_crash(engine: Engine) -> None:
    """The daemon mounted a tmpfs volume for a running container, then died. The next
    one keeps that mount (the container still writes to it), a second container sees
    the same files, and it goes once the last user stops."""
    assert docker(engine, "volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs",
                  "livevol").returncode == 0
    cid = docker(engine, "run", "-d", "-v", "livevol:/d", "busybox", "sh", "-c",
                 "echo first > /d/f; sleep 600").stdout.strip()
    engine.kill_daemon()
    engine.restart_daemon()
    out = docker(engine, "run", "--rm", "-v", "livevol:/d", "busybox", "cat", "/d/f")
    assert out.stdout == "first\n", (out.stderr, engine.log_tail())
    mountpoint = json.loads(docker(engine, "volume", "inspect", "livevol").stdout)[0][
        "Mountpoint"]
    with open("/proc/self/mountinfo") as f:
        assert f" {mountpoint} " in f.read()  # still held for the first container
    assert docker(engine, "rm", "-f", cid).returncode == 0
    with open("/proc/self/mountinfo") as f:
        assert f" {mountpoint} " not in f.read()
    assert docker(engine, "volume", "rm", "livevol").returncode == 0
