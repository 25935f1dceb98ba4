"""kill -9 the daemon at each step of `start`: the next daemon recovers, nothing leaks.

A daemon can die at any instant. Between the first step of a start (the rootfs mounted)
and the record that the container runs, it has made things no record names: a mount, a
network namespace and veth, FIFOs, an executor's half-made container (a cgroup, an init
waiting to exec, a containerd task). The daemon is made to stand still at each named
point of the run path (shared/daemon/crashpoints.py) and killed there; the next daemon
must undo what the dead one did, so that the same container starts again as if nothing
had happened, and `rm` leaves nothing.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.engines import DOCKER_CLI, ENGINES, Engine, remove_all_and_check, snapshot, start_engine

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")

# The points of Engine._start, in order (each after the step it names).
POINTS = ("rootfs", "network", "stdio", "create", "start")
STAGES = [s for s in ("stage1", "stage2", "stage3", "stage4")
          if s in ENGINES and s in (os.environ.get("WB_ENGINES") or "stage2").split(",")]


def docker(engine: Engine, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DOCKER_CLI, "-H", engine.host, *args], capture_output=True,
                          text=True, timeout=timeout)


def kill_at(engine: Engine, point: str, cid: str) -> None:
    """Restart the daemon to pause at `point`, start the container, kill -9 it there."""
    engine.env["WHALEBONES_PAUSE_AT"] = point
    engine.restart_daemon()
    starting = subprocess.Popen([DOCKER_CLI, "-H", engine.host, "start", cid],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not list(engine.exec_root.glob(f"*/paused-at-{point}")):
        assert time.monotonic() < deadline, f"the daemon never reached {point}"
        assert starting.poll() is None, f"start ended before {point}: {engine.log_tail()}"
        time.sleep(0.05)
    engine.kill_daemon()
    starting.wait(30)
    for marker in engine.exec_root.glob(f"*/paused-at-{point}"):
        marker.unlink()
    del engine.env["WHALEBONES_PAUSE_AT"]
    engine.restart_daemon()


@pytest.mark.parametrize("stage", STAGES)
def test_a_daemon_killed_at_any_step_of_start_leaves_nothing_behind(stage: str) -> None:
    with start_engine(stage) as engine:
        before = snapshot(engine)
        for point in POINTS:
            name = f"crash-{point}"
            created = docker(engine, "create", "--name", name, "busybox", "echo", "ran")
            assert created.returncode == 0, created.stderr
            kill_at(engine, point, name)
            again = docker(engine, "start", "-a", name)
            assert (again.returncode, again.stdout) == (0, "ran\n"), (
                point, again.stderr, engine.log_tail())
            removed = docker(engine, "rm", name)
            assert removed.returncode == 0, (point, removed.stderr)
            remove_all_and_check(engine, before)


@pytest.mark.parametrize("stage", STAGES)
def test_a_daemon_killed_during_start_leaves_no_volume_mounted(stage: str) -> None:
    """A tmpfs volume (mounted on the host at its first use) and a bind: after a kill -9
    at each step past the volumes' mounting, the next daemon unmounts what the dead one
    mounted; the volume's data is the volume's again at the next start; `rm -v` leaves
    no mount and the named volume stays."""
    with start_engine(stage) as engine:
        before = snapshot(engine)
        made = docker(engine, "volume", "create", "--opt", "type=tmpfs", "--opt",
                      "device=tmpfs", "crashvol")
        assert made.returncode == 0, made.stderr
        for point in ("stdio", "create", "start"):
            name = f"crash-vol-{point}"
            created = docker(engine, "create", "--name", name, "-v", "crashvol:/data",
                             "-v", "/anon", "busybox", "sh", "-c",
                             "grep -c ' /data ' /proc/self/mountinfo")
            assert created.returncode == 0, created.stderr
            kill_at(engine, point, name)
            mounts = open("/proc/self/mountinfo").read()
            assert "/volumes/crashvol/_data" not in mounts, point
            again = docker(engine, "start", "-a", name)
            assert (again.returncode, again.stdout) == (0, "1\n"), (
                point, again.stderr, engine.log_tail())
            assert docker(engine, "rm", "-v", name).returncode == 0
        assert docker(engine, "volume", "inspect", "crashvol").returncode == 0
        assert docker(engine, "volume", "rm", "crashvol").returncode == 0
        remove_all_and_check(engine, before)
