"""Stage 4's limits on v1 or v2: stage 2's docker checks, through containerd, a shim
and runc, plus runc's pause/resume of a bundle (cgroup.freeze on v2).

The cgroup code is stage 2's libcontainer in every stage from 2 on; what these checks
add is the path to it: the spec crosses gRPC to containerd, becomes a bundle, and a
shim runs `whalebones-runc create` on it. The limits must arrive intact, and the
kill of a whole group must still reach every process once runc has exited.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Callable, Iterator

from tests.cgroupv2 import cgroupfs, stage2
from tests.cgroupv2.stage2 import Session, wait_until
from tests.engines import REPO

RUNC = str(REPO / "bin" / "whalebones-runc")


def runc_pause_freezes_the_group(s: Session) -> None:
    """whalebones-runc pause/resume: the freezer (v2: cgroup.freeze) stops a counter."""
    cid, spec, state = s.spec(["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i >/tmp/n; done"])
    bundle = s.workdir / f"bundle-{cid}"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(spec))
    root = str(s.workdir / "runc")
    runc = [RUNC, "--root", root]
    subprocess.run([*runc, "run", "--detach", "--bundle", str(bundle), cid], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=120)
    path = spec["linux"]["cgroupsPath"]
    try:
        subprocess.run([*runc, "pause", cid], check=True, timeout=120)
        status = json.loads(subprocess.run([*runc, "state", cid], capture_output=True,
                                           check=True, text=True).stdout)["status"]
        assert status == "paused", status
        if cgroupfs.version() == 2:
            events = cgroupfs.directory(path, "freezer") / "cgroup.events"
            wait_until(lambda: cgroupfs.keyed(events)["frozen"] == 1, 30, "frozen")
        subprocess.run([*runc, "resume", cid], check=True, timeout=120)
        if cgroupfs.version() == 2:
            assert cgroupfs.keyed(events)["frozen"] == 0
    finally:
        subprocess.run([*runc, "delete", "--force", cid], timeout=120)
        stage2.reap()
    assert not cgroupfs.exists(path), "runc delete left the cgroup"


CHECKS: list[Callable[[Session], None]] = [
    runc_pause_freezes_the_group,
    stage2.docker_memory_oom_kill, stage2.docker_pids_limit, stage2.docker_cpus_throttles,
    stage2.docker_limits_are_written, stage2.docker_more_limits_are_written,
    stage2.docker_refuses_what_v2_lacks, stage2.docker_stop_kills_the_whole_cgroup,
    stage2.docker_kill_then_rm, stage2.docker_rm_force,
    stage2.docker_pause_freezes_then_rm_force, *stage2.DEVICE_CHECKS,
    # Tasks.Metrics through the shim; Tasks.Update through the shim and runc update
    stage2.docker_stats_reads_the_cgroup, stage2.docker_update_writes_the_cgroup,
    stage2.docker_no_cgroup_left,
]


@contextlib.contextmanager
def session() -> Iterator[Session]:
    with stage2.session() as s:
        s.engine_name = "stage4"
        yield s
