"""Stage 3 as a whole: who is whose parent, and what containerd's death does.

In this era containerd is every container's parent (it is a child subreaper, and
runc exits once the container has started) and, for a -t container, the holder of its
terminal. These tests show both, for real, and what that costs: kill containerd and
the container is orphaned; its terminal master dies with containerd; nobody is left
to report its exit. Stage 4's shims exist to fix exactly this.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines import ENGINES, Engine, cgroup_dirs, cgroups_left, mounts_under, remove_cgroups

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")


@pytest.fixture
def stage3() -> Iterator[Engine]:
    workdir = Path(tempfile.mkdtemp(prefix="wb-stage3only-", dir="/tmp"))
    before = set(cgroup_dirs())
    engine = ENGINES["stage3"].start("stage3", workdir)
    try:
        yield engine
    finally:
        engine.stop()
        for point in sorted(mounts_under(workdir), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False)  # after a killed containerd
        shutil.rmtree(workdir, ignore_errors=True)
        left = cgroups_left(before)
        remove_cgroups(left)
        assert not left, f"cgroups left: {left}"


def docker(engine: Engine, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "-H", engine.host, *args], capture_output=True, text=True,
                          timeout=timeout)


def stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    return fields[0], int(fields[1])


def runc_processes(engine: Engine) -> list[str]:
    """Running runtime processes of this engine (its --root is under the engine's dir; a
    zombie has exited already)."""
    out = subprocess.run(["ps", "-eo", "stat,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()
            if "whalebones-runc" in line and str(engine.workdir) in line
            and not line.startswith("Z")]


def test_runc_is_gone_and_containerd_is_the_parent(stage3: Engine) -> None:
    containerd = stage3.helpers[0]
    cid = docker(stage3, "run", "-d", "busybox", "sleep", "60").stdout.strip()
    pid = json.loads(docker(stage3, "inspect", cid).stdout)[0]["State"]["Pid"]
    assert stat(pid) is not None and stat(pid)[1] == containerd.pid  # type: ignore[index]
    assert runc_processes(stage3) == []
    assert docker(stage3, "rm", "-f", cid).returncode == 0


def test_killing_containerd_orphans_the_container_out_of_reach(stage3: Engine) -> None:
    """What happens, observed: the container goes on running, re-parented away from
    the dead containerd, and the daemon can no longer reach it: `docker stop` ends
    (the daemon gives up on a containerd that does not answer and records the
    container as exited) while the process itself runs on."""
    containerd = stage3.helpers[0]
    cid = docker(stage3, "run", "-d", "busybox", "sleep", "60").stdout.strip()
    pid = json.loads(docker(stage3, "inspect", cid).stdout)[0]["State"]["Pid"]

    containerd.send_signal(signal.SIGKILL)
    containerd.wait()
    time.sleep(0.3)
    state = stat(pid)
    assert state is not None and state[0] != "Z", "the container died with containerd"
    assert state[1] != containerd.pid  # an orphan now

    docker(stage3, "stop", "-t", "1", cid)
    info = json.loads(docker(stage3, "inspect", cid).stdout)[0]["State"]
    assert not info["Running"]
    assert stat(pid) is not None and stat(pid)[0] != "Z", "the process itself runs on"

    # Nobody can reach it through the engine any more: clean up by hand, as an admin
    # would have had to.
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if stat(pid) is None or stat(pid)[0] == "Z":  # type: ignore[index]
            break
        time.sleep(0.05)
    left = [h / "whalebones" / cid for h in Path("/sys/fs/cgroup").iterdir()]
    deadline = time.monotonic() + 20
    while (left := [p for p in left if p.is_dir()]) and time.monotonic() < deadline:
        for path in left:
            try:
                path.rmdir()
            except OSError:
                pass  # busy for a moment after the kill
        time.sleep(0.05)
    assert not left, f"cgroups left: {left}"
    assert docker(stage3, "rm", "-f", cid).returncode == 0


def our_cgroups(cid: str) -> list[Path]:
    """The container's cgroup directories, in every hierarchy (v1 and unified)."""
    return [p for p in (*Path("/sys/fs/cgroup").glob(f"*/whalebones/{cid}"),
                        Path("/sys/fs/cgroup/whalebones", cid)) if p.is_dir()]


def test_a_restarted_containerd_ends_the_orphans_and_their_cgroups(stage3: Engine) -> None:
    """kill -9 containerd with a container running, then start it again: the new one
    cannot adopt the orphan (its parent and its stdio died with the old one), so it
    deletes it through the runtime, cgroups and all, rather than leave them to nobody."""
    cid = docker(stage3, "run", "-d", "busybox", "sleep", "60").stdout.strip()
    pid = json.loads(docker(stage3, "inspect", cid).stdout)[0]["State"]["Pid"]
    assert our_cgroups(cid), "the container has no cgroup to begin with"
    stage3.kill_helper()
    time.sleep(0.3)
    assert stat(pid) is not None, "the container died with containerd"
    stage3.restart_helper()
    deadline = time.monotonic() + 10
    while stat(pid) is not None and stat(pid)[0] != "Z":  # type: ignore[index]
        assert time.monotonic() < deadline, "the orphan outlived the next containerd's start"
        time.sleep(0.05)
    assert our_cgroups(cid) == []
    assert docker(stage3, "rm", "-f", cid).returncode == 0
    assert our_cgroups(cid) == []
