"""Stage 2's daemon is every container's parent: what a daemon crash does to them.

This is the limit of the libcontainer era, shown for real: kill -9 the daemon and its
running container is orphaned (re-parented up the tree) with nobody reading its
output; the next daemon cannot adopt it, so it kills it and records the exit, leaving
nothing behind. A clean stop (SIGTERM) stops the containers first.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines import (
    Engine,
    launch,
    mounts_under,
    net_prefix_args,
    repo_env,
    run_checked,
    with_net_prefix,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")
MODULE = "stages.stage2_libcontainer"


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="wb-restart-", dir="/tmp"))
    (path / "root" / "images").mkdir(parents=True)
    run_checked([sys.executable, "-m", "shared.images.busybox", "--root",
                 str(path / "root" / "images")], what="busybox", env=repo_env())
    yield path
    assert not mounts_under(path), mounts_under(path)
    shutil.rmtree(path, ignore_errors=True)


def start(workdir: Path) -> Engine:
    """Start (or start again) the daemon of `workdir`: a restarted daemon must keep its
    network prefix, or it would not recognise the bridge its predecessor left."""
    sock = workdir / "docker.sock"
    saved = workdir / "net-prefix"
    if not saved.exists():
        saved.write_text(" ".join(net_prefix_args()))
    command = [sys.executable, "-m", MODULE, "--root", str(workdir / "root"),
               "--exec-root", str(workdir / "exec"), "--host", f"unix://{sock}",
               *saved.read_text().split()]
    return with_net_prefix(launch("stage2", True, workdir, workdir / "root", workdir / "exec",
                                  sock, command, env=repo_env()))


def docker(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "-H", engine.host, *args], capture_output=True,
                          text=True, timeout=60)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def cgroup_exists(cid: str) -> bool:
    return any(Path(f"/sys/fs/cgroup/{c}/whalebones/{cid}").exists()
               for c in ("memory", "pids", "cpu", "freezer"))


def test_kill_9_of_the_daemon_orphans_the_container_and_the_next_daemon_cleans_up(
    workdir: Path,
) -> None:
    engine = start(workdir)
    cid = docker(engine, "run", "-d", "--name", "orphan", "busybox", "sleep", "300")
    cid = cid.stdout.strip()
    pid = json.loads(docker(engine, "inspect", cid).stdout)[0]["State"]["Pid"]
    assert alive(pid)

    engine.process.send_signal(signal.SIGKILL)
    engine.process.wait()
    # The container did not die with its parent: it is an orphan now, running with
    # nobody to wait for it or read what it writes.
    assert alive(pid)
    with open(f"/proc/{pid}/stat") as f:
        assert int(f.read().split(") ")[1].split()[1]) != engine.pid

    engine = start(workdir)
    try:
        state = json.loads(docker(engine, "inspect", cid).stdout)[0]["State"]
        assert (state["Status"], state["Running"], state["ExitCode"]) == ("exited", False, 137)
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(pid), "the new daemon left the orphan running"
        assert not cgroup_exists(cid)
        assert docker(engine, "run", "--rm", "busybox", "echo", "fine").stdout == "fine\n"
        assert docker(engine, "rm", cid).returncode == 0
    finally:
        engine.stop()


def test_sigterm_stops_the_containers_first(workdir: Path) -> None:
    engine = start(workdir)
    cid = docker(engine, "run", "-d", "--stop-timeout", "1", "busybox", "sleep", "300")
    cid = cid.stdout.strip()
    pid = json.loads(docker(engine, "inspect", cid).stdout)[0]["State"]["Pid"]
    engine.stop()  # SIGTERM; fails the test if any process of the daemon is left
    assert not alive(pid)
    assert not cgroup_exists(cid)
    engine = start(workdir)
    try:
        state = json.loads(docker(engine, "inspect", cid).stdout)[0]["State"]
        assert state["Status"] == "exited"
        docker(engine, "rm", cid)
    finally:
        engine.stop()


