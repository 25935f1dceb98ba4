"""Stage 4 as a whole: one shim per container, and restarts that lose nothing.

The shim is the container's parent (a subreaper, re-parented away from containerd),
holds its stdio and terminal, and keeps its exit status. These tests kill containerd,
or a shim, with SIGKILL while real containers run, and check what a client sees.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines import Engine, remove_all_and_check, snapshot, start_engine

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")


@pytest.fixture
def stage4() -> Iterator[Engine]:
    with start_engine("stage4") as engine:
        before = snapshot(engine)
        yield engine
        remove_all_and_check(engine, before)


def docker(engine: Engine, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "-H", engine.host, *args], capture_output=True, text=True,
                          timeout=timeout)


def stat(pid: int) -> tuple[str, int, str] | None:
    """(state, parent pid, command line) of a live process; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return None
    return (fields[0], int(fields[1]), cmdline) if fields[0] != "Z" else None


def container_pid(engine: Engine, cid: str) -> int:
    return json.loads(docker(engine, "inspect", cid).stdout)[0]["State"]["Pid"]


def shim_of(pid: int) -> int:
    found = stat(pid)
    assert found is not None
    return found[1]


def runtime_processes(engine: Engine) -> list[str]:
    """Live runtime processes of this engine (its --root is under the engine's dir)."""
    out = subprocess.run(["ps", "-eo", "stat,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()
            if {os.path.basename(w) for w in line.split()[1:4]} & {"runc", "whalebones-runc"}
            and str(engine.workdir) in line
            and not line.startswith("Z")]


def test_one_shim_per_container_is_its_parent_and_no_runc_is_left(stage4: Engine) -> None:
    containerd = stage4.helpers[0]
    cids = [docker(stage4, "run", "-d", *(["-t"] if i else []), "busybox", "sleep", "60")
            .stdout.strip() for i in range(3)]
    shims = set()
    for cid in cids:
        shim = shim_of(container_pid(stage4, cid))
        info = stat(shim)
        assert info is not None and "whalebones-shim" in info[2] and cid in info[2]
        assert info[1] != containerd.pid, "the shim is still containerd's child"
        shims.add(shim)
    assert len(shims) == 3
    assert runtime_processes(stage4) == []
    assert docker(stage4, "rm", "-f", *cids).returncode == 0
    for shim in shims:
        deadline = time.monotonic() + 5
        while stat(shim) is not None:
            assert time.monotonic() < deadline, f"shim {shim} outlived its container"
            time.sleep(0.05)


COUNTER = "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.1; done"


def test_kill_9_containerd_and_everything_works_again(stage4: Engine) -> None:
    cid = docker(stage4, "run", "-d", "busybox", "sh", "-c", COUNTER).stdout.strip()
    tty = docker(stage4, "run", "-d", "-t", "-i", "busybox", "sh").stdout.strip()
    pid = container_pid(stage4, cid)
    stage4.kill_helper()
    time.sleep(1)
    assert stat(pid) is not None, "the container died with containerd"
    stage4.restart_helper()

    ps = docker(stage4, "ps").stdout
    assert cid[:12] in ps and tty[:12] in ps
    assert docker(stage4, "exec", cid, "echo", "exec-works").stdout.strip() == "exec-works"
    with subprocess.Popen(["docker", "-H", stage4.host, "logs", "-f", cid],
                          stdout=subprocess.PIPE, text=True) as follow:
        assert follow.stdout is not None
        first = follow.stdout.readline()
        assert first.startswith("line-0")
        follow.kill()
    # the terminal the shim holds still works: type into it, read the echo back
    # (`docker attach` to a -t container wants a terminal of its own: script(1) gives one)
    attach_cmd = f"docker -H {stage4.host} attach {tty}"
    with subprocess.Popen(["script", "-qfec", attach_cmd, "/dev/null"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE) as attach:
        assert attach.stdin is not None and attach.stdout is not None
        time.sleep(0.5)
        attach.stdin.write(b"echo typed-$((6*7))\n")
        attach.stdin.flush()
        seen = b""
        deadline = time.monotonic() + 10
        while b"typed-42" not in seen and time.monotonic() < deadline:
            seen += os.read(attach.stdout.fileno(), 4096)
        attach.kill()
        attach.wait()
        attach.stdin = None  # killed: nothing to flush into it
    assert b"typed-42" in seen
    assert docker(stage4, "stop", "-t", "1", cid).returncode == 0
    assert docker(stage4, "wait", cid).stdout.strip() in ("137", "143")
    assert stat(pid) is None


def test_an_exit_while_containerd_is_down_is_reported(stage4: Engine) -> None:
    cid = docker(stage4, "run", "-d", "busybox", "sh", "-c", "sleep 1; exit 3").stdout.strip()
    stage4.kill_helper()
    time.sleep(2)  # it exits now, with no containerd: its shim keeps the status
    stage4.restart_helper()
    assert docker(stage4, "wait", cid).stdout.strip() == "3"
    state = json.loads(docker(stage4, "inspect", cid).stdout)[0]["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 3


def test_an_exit_while_the_daemon_and_containerd_are_down_is_reported(stage4: Engine) -> None:
    stage4.command.append("--live-restore")
    stage4.restart_daemon()
    cid = docker(stage4, "run", "-d", "busybox", "sh", "-c", "sleep 1; exit 4").stdout.strip()
    stage4.kill_daemon()
    stage4.kill_helper()
    time.sleep(2)
    stage4.restart_helper()
    stage4.restart_daemon()
    assert docker(stage4, "wait", cid).stdout.strip() == "4"


def test_a_killed_shim_ends_its_container_and_leaves_nothing(stage4: Engine) -> None:
    cid = docker(stage4, "run", "-d", "busybox", "sleep", "60").stdout.strip()
    pid = container_pid(stage4, cid)
    os.kill(shim_of(pid), signal.SIGKILL)
    assert docker(stage4, "wait", cid, timeout=20).stdout.strip() == "137"
    state = json.loads(docker(stage4, "inspect", cid).stdout)[0]["State"]
    assert not state["Running"]
    deadline = time.monotonic() + 10
    while stat(pid) is not None:
        assert time.monotonic() < deadline, "the container outlived its shim, unwatched"
        time.sleep(0.05)
    assert docker(stage4, "rm", cid).returncode == 0


def test_an_exit_recorded_by_a_shim_that_then_died_is_reported(stage4: Engine) -> None:
    """The container exits while containerd is away, then its shim dies too: the exit
    status the shim wrote into the bundle (exit.json) is all that is left, and the
    next containerd reports it rather than a dead shim's 137."""
    cid = docker(stage4, "run", "-d", "busybox", "sh", "-c", "sleep 1; exit 5").stdout.strip()
    shim = shim_of(container_pid(stage4, cid))
    stage4.kill_helper()
    time.sleep(2.5)  # it exits now, with no containerd: its shim records the status
    os.kill(shim, signal.SIGKILL)
    stage4.restart_helper()
    assert docker(stage4, "wait", cid, timeout=20).stdout.strip() == "5"
    state = json.loads(docker(stage4, "inspect", cid).stdout)[0]["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 5


def cgroups_of(cid: str) -> list[Path]:
    """The container's cgroup directories, in every hierarchy (v1 and unified)."""
    return [p for p in (*Path("/sys/fs/cgroup").glob(f"*/whalebones/{cid}"),
                        Path("/sys/fs/cgroup/whalebones", cid)) if p.is_dir()]


def test_a_shim_killed_while_containerd_is_down_leaves_no_cgroup(stage4: Engine) -> None:
    """containerd, then the shim of a running container, killed: nothing watches the
    container and nobody ran `runtime delete`. The next containerd finds the shim dead
    and deletes the container through the runtime: no process and no cgroup remain
    (a cgroup lasts until someone rmdirs it)."""
    cid = docker(stage4, "run", "-d", "busybox", "sleep", "60").stdout.strip()
    pid = container_pid(stage4, cid)
    cgroups = cgroups_of(cid)
    assert cgroups, "the container has no cgroup to begin with"
    shim = shim_of(pid)
    stage4.kill_helper()
    os.kill(shim, signal.SIGKILL)
    stage4.restart_helper()
    assert docker(stage4, "wait", cid, timeout=20).stdout.strip() == "137"
    assert stat(pid) is None, "the container outlived its shim and containerd"
    assert docker(stage4, "rm", cid).returncode == 0
    assert [p for p in cgroups if p.is_dir()] == []


def test_a_container_no_bundle_accounts_for_is_deleted_at_start(stage4: Engine) -> None:
    """containerd and the shim killed, and the bundle gone with them (what a restore
    that adopts nothing, like the containerd-adopts-shims exercise's stub, amounts to):
    only the runtime's root still knows the container. The next containerd deletes
    what no task of its accounts for: the orphan ends and its cgroups go."""
    cid = docker(stage4, "run", "-d", "busybox", "sleep", "60").stdout.strip()
    pid = container_pid(stage4, cid)
    assert cgroups_of(cid), "the container has no cgroup to begin with"
    shim = shim_of(pid)
    stage4.kill_helper()
    os.kill(shim, signal.SIGKILL)
    shutil.rmtree(stage4.exec_root / "containerd" / "whalebones" / cid)
    stage4.restart_helper()
    deadline = time.monotonic() + 10
    while stat(pid) is not None:
        assert time.monotonic() < deadline, "the orphan outlived the next containerd's start"
        time.sleep(0.05)
    assert cgroups_of(cid) == []
    assert docker(stage4, "rm", "-f", cid).returncode == 0
