"""Stage 2's limits, checked against the kernel's own cgroup files, on v1 or v2.

Two layers, as a user meets them:

    lib_*     libcontainer called directly (Container.create/start/pause/destroy):
              the limits land in the cgroup, the kernel enforces them, pause freezes
              the group, destroy kills every process of the group and removes it
    docker_*  the stage 2 daemon and the docker CLI: --memory (OOM kill, exit 137,
              State.OOMKilled), --pids-limit, --cpus (throttling), stop, kill, rm -f;
              --memory-reservation, --cpu-period, the I/O limits read back in their
              files (v2: memory.low, cpu.max, io.max on a brd RAM disk, io.weight), and
              what v2 has no file for (swappiness, real-time CPU) refused at create

A limit counts as enforced only when a kernel counter moved: memory.events oom_kill,
pids.events max, cpu.stat nr_throttled. Everything a check makes it removes, and the
last checks of each layer assert that no cgroup of ours is left.

Run as root, on the VM (tests/cgroupv2/vm.py) or natively: `python -m tests.cgroupv2.checks`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from shared.libc import set_child_subreaper
from shared.oci.defaults import default_spec
from stages.stage2_libcontainer.libcontainer import Container, Stdio
from tests import engines
from tests.cgroupv2 import cgroupfs
from tests.cgroupv2.harness import Skip

PARENT = "/whalebones"  # the cgroup parent of the library's and the daemon's containers
PREFIX = f"wbv2-{os.getpid()}-"  # the library checks' container ids, and so cgroup names
# Applets the library checks' containers run; each a link to one static busybox.
APPLETS = ("sh", "tail", "sleep", "cat", "echo", "true", "grep", "kill", "mknod", "head")


class Session:
    """What the checks share: a busybox rootfs, a counter for ids, and (started on first
    use, since it is the slow part under emulation) the stage 2 daemon."""

    def __init__(self, workdir: Path, stack: contextlib.ExitStack) -> None:
        self.workdir = workdir
        self.stack = stack
        self.count = 0
        self.rootfs = workdir / "rootfs"
        (self.rootfs / "bin").mkdir(parents=True)
        for d in ("proc", "sys", "dev", "tmp", "etc"):
            (self.rootfs / d).mkdir()
        shutil.copy2(engines.BUSYBOX, self.rootfs / "bin" / "busybox")
        for applet in APPLETS:
            (self.rootfs / "bin" / applet).symlink_to("busybox")
        self._engine: engines.Engine | None = None
        self.engine_name = "stage2"  # which stage's daemon the docker_* checks drive
        self.daemon_cgroups: list[str] = []  # every cgroup the daemon's containers had

    # ------------------------------------------------------------ the library

    def spec(self, args: list[str], resources: dict | None = None,
             pid_namespace: bool = True) -> tuple[str, dict, str]:
        """(id, spec, state dir) of a container over the shared read-only rootfs."""
        self.count += 1
        cid = f"{PREFIX}{self.count}"
        spec = default_spec()
        spec["root"] = {"path": str(self.rootfs), "readonly": True}
        spec["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"})
        spec["process"]["args"] = args
        spec["process"]["env"] = ["PATH=/bin"]
        spec["linux"]["cgroupsPath"] = f"{PARENT}/{cid}"
        spec["linux"]["resources"].update(resources or {})
        if not pid_namespace:
            spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"]
                                           if n["type"] != "pid"]
        return cid, spec, str(self.workdir / cid)

    @contextlib.contextmanager
    def container(self, args: list[str], resources: dict | None = None,
                  pid_namespace: bool = True,
                  output: int | None = None) -> Iterator[tuple[Container, str]]:
        """A created (not started) container and its cgroup path; destroyed, reaped and
        checked gone afterwards. Its output goes to `output` (a fd), else /dev/null."""
        cid, spec, state = self.spec(args, resources, pid_namespace)
        null = os.open(os.devnull, os.O_RDWR)
        out = null if output is None else output
        try:
            c = Container.create(cid, spec, state, Stdio(null, out, out))
        finally:
            os.close(null)
        try:
            yield c, spec["linux"]["cgroupsPath"]
        finally:
            c.destroy()
            reap()
        assert not cgroupfs.exists(spec["linux"]["cgroupsPath"]), "destroy left the cgroup"

    # ------------------------------------------------------------ the daemon

    def docker(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        if not os.access(engines.DOCKER_CLI, os.X_OK):
            raise Skip(f"no docker CLI at {engines.DOCKER_CLI}")
        if self._engine is None:
            # Python under emulation starts ~17x slower than on the host.
            engines.START_TIMEOUT = 180.0
            # --bridge none: these checks are about cgroups, and the VM's kernel, with
            # no modules loaded, has no netfilter for the bridge's NAT rules.
            self._engine = self.stack.enter_context(
                engines.start_engine(self.engine_name, ("--bridge", "none")))
        return subprocess.run([engines.DOCKER_CLI, "-H", self._engine.host, *args],
                              capture_output=True, text=True, timeout=timeout)

    def docker_ok(self, *args: str) -> str:
        result = self.docker(*args)
        assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr}"
        return result.stdout.strip()


def reap() -> None:
    """Wait for every child that has exited: a container's init (we are its subreaper),
    and orphans of a container without a pid namespace of its own."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for its parent's wait()."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def read_fd(fd: int) -> str:
    chunks = []
    while data := os.read(fd, 65536):
        chunks.append(data)
    os.close(fd)
    return b"".join(chunks).decode()


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {seconds} s"
        time.sleep(0.05)


# ================================================================ libcontainer


def lib_memory_limit_oom_kills(s: Session) -> None:
    """memory.max: past it the kernel's OOM killer kills inside the group, and counts it."""
    # tail keeps the last "line" in memory; /dev/zero never ends one.
    with s.container(["tail", "/dev/zero"], {"memory": {"limit": 16 << 20}}) as (c, path):
        limit = cgroupfs.file(path, "memory", "memory.limit_in_bytes", "memory.max")
        assert cgroupfs.read(limit) == str(16 << 20)
        assert not c.oom_killed()
        c.start()
        _, status = os.waitpid(c.pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
        events = cgroupfs.keyed(cgroupfs.file(path, "memory", "memory.oom_control",
                                              "memory.events"))
        assert events.get("oom_kill", 0) >= 1, events
        assert c.oom_killed()


def lib_pids_limit_stops_forks(s: Session) -> None:
    """pids.max: fork() fails past it, and pids.events counts the refusals."""
    r, w = os.pipe()
    script = "for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; echo forked"
    with s.container(["sh", "-c", script], {"pids": {"limit": 4}}, output=w) as (c, path):
        os.close(w)
        assert cgroupfs.read(cgroupfs.file(path, "pids", "pids.max", "pids.max")) == "4"
        c.start()
        os.waitpid(c.pid, 0)  # init exits; the pid namespace's sleeps die with it
        out = read_fd(r)
        assert "can't fork" in out or "Resource temporarily unavailable" in out, out
        events = cgroupfs.keyed(cgroupfs.file(path, "pids", "pids.events", "pids.events"))
        assert events.get("max", 0) >= 1, events


def lib_cpu_quota_throttles(s: Session) -> None:
    """cpu.max "20000 100000": a busy loop gets 20 ms per 100 ms, then is throttled."""
    resources = {"cpu": {"quota": 20000, "period": 100000}}
    with s.container(["sh", "-c", "while :; do :; done"], resources) as (c, path):
        if cgroupfs.version() == 2:
            assert cgroupfs.read(cgroupfs.directory(path, "cpu") / "cpu.max") == "20000 100000"
        else:
            assert cgroupfs.read(cgroupfs.directory(path, "cpu") / "cpu.cfs_quota_us") == "20000"
        stat = cgroupfs.directory(path, "cpu") / "cpu.stat"
        # Setting the container up (a Python process, in the cgroup) may have been
        # throttled already: count from here.
        before = cgroupfs.keyed(stat)
        c.start()
        started = time.monotonic()
        wait_until(lambda: cgroupfs.keyed(stat)["nr_throttled"] >= before["nr_throttled"] + 3,
                   30, "cpu.stat nr_throttled up by 3")
        elapsed = time.monotonic() - started
        after = cgroupfs.keyed(stat)
        throttled = after["nr_throttled"] - before["nr_throttled"]
        if cgroupfs.version() == 2:
            # Never more than its quota: 0.2 CPU (plus a period's worth of slack).
            used = (after["usage_usec"] - before["usage_usec"]) / 1e6
            assert used <= 0.2 * elapsed + 0.1, f"used {used:.2f} s of CPU in {elapsed:.2f} s"
        print(f"    throttled {throttled} times in {elapsed:.1f} s")


def lib_pause_freezes_the_group(s: Session) -> None:
    """Container.pause(): cgroup.freeze (v2) or freezer.state (v1); nothing runs."""
    script = "i=0; while :; do i=$((i+1)); echo $i > /tmp/now; sleep 0.02; done"
    with s.container(["sh", "-c", script]) as (c, path):
        c.start()
        now = Path(f"/proc/{c.pid}/root/tmp/now")  # the container's /tmp, from outside
        wait_until(now.exists, 30, "the counter starts")
        c.pause()
        assert c.status() == "paused"
        if cgroupfs.version() == 2:
            d = cgroupfs.directory(path, "freezer")
            assert cgroupfs.read(d / "cgroup.freeze") == "1"
            assert cgroupfs.keyed(d / "cgroup.events")["frozen"] == 1
        else:
            state = cgroupfs.directory(path, "freezer") / "freezer.state"
            assert cgroupfs.read(state) == "FROZEN"
        frozen_at = now.read_text()
        time.sleep(0.5)
        assert now.read_text() == frozen_at, "the counter moved while frozen"
        c.resume()
        assert c.status() == "running"
        wait_until(lambda: now.read_text() != frozen_at, 30, "the counter moves again")
        if cgroupfs.version() == 2:
            events = cgroupfs.directory(path, "freezer") / "cgroup.events"
            assert cgroupfs.keyed(events)["frozen"] == 0


def lib_destroy_kills_the_whole_group(s: Session) -> None:
    """destroy() kills every process in the cgroup (v2: one write to cgroup.kill).

    Without a pid namespace of its own, the container's processes do not die with its
    init: only a kill of the whole group can end them, even while one keeps forking."""
    script = "sleep 300 & sleep 300 & while :; do sleep 300 & sleep 0.1; done"
    with s.container(["sh", "-c", script], {"pids": {"limit": 64}},
                     pid_namespace=False) as (c, path):
        c.start()
        wait_until(lambda: len(c.processes()) >= 5, 30, "the container forks")
        pids = c.processes()
        if cgroupfs.version() == 2:
            assert (cgroupfs.directory(path) / "cgroup.kill").exists(), "kernel < 5.14?"
        c.destroy()
        reap()
        left = [p for p in pids if alive(p)]
        assert not left, f"still running after destroy: {left}"
        assert not cgroupfs.exists(path)


# The numbers of a SCSI disk (sd, 8:0). The kernel asks the device allow-list before
# it looks for the driver, so opening such a node says which of the two answered:
# EPERM, the list refused; ENXIO, the list allowed and no such disk exists (the VM has
# none; its root is 9p). No real disk is needed to prove the list, on either version.
DISK = "b 8 0"
REFUSED = "Operation not permitted"
NO_DEVICE = "No such device or address"


def device_programs(path: str) -> list[int]:
    """v2: the ids of the device programs attached to the container's cgroup."""
    from stages.stage2_libcontainer.libcontainer.cgroups import bpf

    fd = os.open(cgroupfs.directory(path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        return bpf.prog_query(fd)
    finally:
        os.close(fd)


def lib_device_allow_list(s: Session) -> None:
    """The default allow-list: v2, one BPF_PROG_TYPE_CGROUP_DEVICE program on the
    cgroup; v1, devices.list. A disk node the container makes cannot be opened;
    /dev/null can."""
    r, w = os.pipe()
    script = (f"mknod /tmp/disk {DISK} && echo made; head -c 1 /tmp/disk;"
              " echo x > /dev/null && echo null-ok")
    with s.container(["sh", "-c", script], output=w) as (c, path):
        os.close(w)
        if cgroupfs.version() == 2:
            assert len(device_programs(path)) == 1, device_programs(path)
        else:
            listed = cgroupfs.read(cgroupfs.directory(path, "devices") / "devices.list")
            assert "c 1:3 rwm" in listed.splitlines(), listed
        c.start()
        os.waitpid(c.pid, 0)
        out = read_fd(r)
    assert "made" in out and "null-ok" in out, out
    assert f"/tmp/disk: {REFUSED}" in out, out


def lib_no_cgroup_left(s: Session) -> None:
    """None of the library checks' cgroups is left, in any hierarchy."""
    left = [d for parent in cgroupfs.exists(PARENT) for d in parent.glob(f"{PREFIX}*")]
    assert not left, left


# ================================================================ the daemon

CPU_SCRIPT = """
if [ -f /sys/fs/cgroup/cpu.max ]; then d=/sys/fs/cgroup; cat $d/cpu.max
else set -- /sys/fs/cgroup/cpu*/cpu.cfs_quota_us; d=$(dirname $1)  # cpu or cpu,cpuacct
     echo $(cat $d/cpu.cfs_quota_us $d/cpu.cfs_period_us); fi
while :; do :; done &
sleep 2; kill $!; grep nr_throttled $d/cpu.stat
"""


def container_cgroup(s: Session, name: str) -> str:
    """The cgroup of a running container's init, as the kernel reports it."""
    pid = int(s.docker_ok("inspect", "-f", "{{.State.Pid}}", name))
    assert pid > 0, f"{name} is not running"
    path = cgroupfs.of_process(pid)
    s.daemon_cgroups.append(path)
    return path


def docker_memory_oom_kill(s: Session) -> None:
    """docker run -m 32m: exit 137, State.OOMKilled from the cgroup's OOM counter."""
    name = f"{PREFIX}oom"
    result = s.docker("run", "--name", name, "-m", "32m", "busybox", "tail", "/dev/zero")
    assert result.returncode == 137, (result.returncode, result.stderr)
    state = s.docker_ok("inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", name)
    # Too short-lived to read its cgroup from /proc: the daemon's path for it.
    path = f"{PARENT}/{s.docker_ok('inspect', '-f', '{{.Id}}', name)}"
    s.daemon_cgroups.append(path)
    s.docker_ok("rm", name)
    assert state == "true 137", state
    assert not cgroupfs.exists(path)


def docker_pids_limit(s: Session) -> None:
    """docker run --pids-limit 10: the 11th process cannot be forked."""
    script = ("cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max;"
              " i=0; while [ $i -lt 20 ]; do sleep 5 & i=$((i+1)); done; echo all-forked")
    result = s.docker("run", "--rm", "--pids-limit", "10", "busybox", "sh", "-c", script)
    assert result.stdout.split()[:1] == ["10"], result.stdout
    assert result.returncode != 0 and "all-forked" not in result.stdout, result
    assert "can't fork" in result.stderr, result.stderr


def docker_cpus_throttles(s: Session) -> None:
    """docker run --cpus 0.5: quota 50 ms per 100 ms, and a busy loop is throttled."""
    result = s.docker("run", "--rm", "--cpus", "0.5", "busybox", "sh", "-c", CPU_SCRIPT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "50000 100000", lines
    key, throttled = lines[-1].split()
    assert key == "nr_throttled" and int(throttled) > 0, lines
    print(f"    cpu quota {lines[0]}, throttled {throttled} times in 2 s")


def docker_limits_are_written(s: Session) -> None:
    """-m, --memory-swap and --cpu-shares, translated for the host's cgroup version and
    read back inside, where the cgroup namespace shows the container's own cgroup."""
    if cgroupfs.version() == 2:
        # v2 counts swap alone (v1's memsw counts memory + swap); shares become a weight.
        files = {"memory.max": str(32 << 20), "memory.swap.max": str(32 << 20),
                 "cpu.weight": "20"}
    else:
        files = {"memory/memory.limit_in_bytes": str(32 << 20), "cpu/cpu.shares": "512"}
    names = " ".join(f"/sys/fs/cgroup/{name}" for name in files)
    result = s.docker("run", "--rm", "-m", "32m", "--memory-swap", "64m", "--cpu-shares",
                      "512", "busybox", "cat", *names.split())
    assert result.returncode == 0, result.stderr
    assert dict(zip(files, result.stdout.split(), strict=True)) == files, result.stdout


def docker_oom_kill_disable(s: Session) -> None:
    """--oom-kill-disable: v1's memory.oom_control reads 1 inside; on v2, which has no
    such switch, the create is refused (dockerd would discard it with a warning)."""
    if cgroupfs.version() == 2:
        result = s.docker("create", "-m", "32m", "--oom-kill-disable", "busybox")
        assert result.returncode != 0, (result.returncode, result.stdout)
        assert "does not support OomKillDisable" in result.stderr, result.stderr
        return
    result = s.docker("run", "--rm", "-m", "32m", "--oom-kill-disable", "busybox", "grep",
                      "oom_kill_disable", "/sys/fs/cgroup/memory/memory.oom_control")
    assert result.stdout.split() == ["oom_kill_disable", "1"], (result.stdout, result.stderr)


def a_disk() -> tuple[str, int, int] | None:
    """(/dev path, major, minor) of a whole disk here (the VM's: a brd RAM disk), or None."""
    for name in sorted(os.listdir("/sys/block")):
        dev = f"/dev/{name}"
        if os.path.exists(dev) and not name.startswith(("loop", "zram")):
            st = os.stat(dev)
            return dev, os.major(st.st_rdev), os.minor(st.st_rdev)
    return None


def docker_more_limits_are_written(s: Session) -> None:
    """--memory-reservation, --cpu-period, --device-read-bps/--device-write-iops and
    --blkio-weight land in the host's version's files (v2: memory.low, cpu.max, io.max,
    io.weight; v1: soft_limit_in_bytes, cfs_period_us, blkio.throttle.*)."""
    args = ["-m", "64m", "--memory-reservation", "32m", "--cpu-period", "50000"]
    v2 = cgroupfs.version() == 2
    files = ({"memory.low": [str(32 << 20)], "cpu.max": ["max 50000"]} if v2 else
             {"memory/memory.soft_limit_in_bytes": [str(32 << 20)],
              "cpu/cpu.cfs_period_us": ["50000"]})
    disk = a_disk()
    if disk is not None:
        dev, major, minor = disk
        args += ["--device-read-bps", f"{dev}:1mb", "--device-write-iops", f"{dev}:100"]
        if v2:
            files["io.max"] = [f"{major}:{minor} rbps=1048576 wbps=max riops=max wiops=100"]
        else:
            files["blkio/blkio.throttle.read_bps_device"] = [f"{major}:{minor} 1048576"]
            files["blkio/blkio.throttle.write_iops_device"] = [f"{major}:{minor} 100"]
    weight = (cgroupfs.ROOT / "io.cost.qos").exists() if v2 else False
    if weight:  # io.weight is iocost's; blkio 500 is io.weight 4950 (runc's scale)
        args += ["--blkio-weight", "500"]
        files["io.weight"] = ["default 4950"]
    script = "; ".join(f"echo $(cat /sys/fs/cgroup/{name})" for name in files)
    result = s.docker("run", "--rm", *args, "busybox", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    got = dict(zip(files, ([line] for line in result.stdout.splitlines()), strict=True))
    assert got == files, result.stdout
    print(f"    read back {', '.join(files)}" + ("" if disk else " (no disk: no io.max)"))


def docker_refuses_what_v2_lacks(s: Session) -> None:
    """On v2 there is no swappiness and no real-time CPU: refused with a 400 at create,
    not accepted and ignored. (On v1 hosts with those files, they are applied.)"""
    if cgroupfs.version() != 2:
        raise Skip("cgroup v1 has memory.swappiness and cpu.rt_*")
    for args, message in ((["--memory-swappiness", "10"], "swappiness"),
                          (["--cpu-rt-runtime", "1000"],
                           "kernel does not support CPU real-time scheduler")):
        result = s.docker("create", *args, "busybox", "true")
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)


def docker_cgroup_options(s: Session) -> None:
    """--cgroup-parent, --cpuset-cpus and --cgroupns host: the cgroup is under the
    parent, /proc/self/cgroup shows its real path, and /sys/fs/cgroup is the container's
    own cgroup (bound, read-only), not the host's whole tree."""
    parent = f"{PREFIX}parent"
    cpuset, pids = (("cpuset.cpus", "pids.max") if cgroupfs.version() == 2
                    else ("cpuset/cpuset.cpus", "pids/pids.max"))
    script = (f"cat /proc/self/cgroup; cat /sys/fs/cgroup/{cpuset};"
              f" echo max > /sys/fs/cgroup/{pids} && echo writable")
    try:
        result = s.docker("run", "--rm", "--cgroupns", "host", "--cgroup-parent", parent,
                          "--cpuset-cpus", "0", "busybox", "sh", "-c", script)
        lines = result.stdout.split()
        assert lines, result.stderr
        if cgroupfs.version() == 2:
            assert lines[0].startswith(f"0::/{parent}/"), lines
        else:
            assert any(f":/{parent}/" in line for line in lines), lines
        assert "0" in lines and "writable" not in lines, lines
        left = [sub for d in cgroupfs.exists("/" + parent) for sub, _, _ in os.walk(d)
                if sub != str(d)]
        assert not left, f"left under the parent: {left}"
    finally:
        for d in cgroupfs.exists("/" + parent):  # the parent itself: dockerd leaves it
            with contextlib.suppress(OSError):
                d.rmdir()


def start_family(s: Session, name: str) -> tuple[str, list[int]]:
    """A detached container of three processes; its cgroup path and their pids."""
    s.docker_ok("run", "-d", "--name", name, "busybox", "sh", "-c",
                "sleep 1000 & sleep 1000 & wait")
    path = container_cgroup(s, name)
    procs = cgroupfs.directory(path) / "cgroup.procs"
    wait_until(lambda: len(procs.read_text().split()) == 3, 30, "three processes")
    return path, [int(p) for p in procs.read_text().split()]


def docker_stop_kills_the_whole_cgroup(s: Session) -> None:
    """docker stop: pid 1 ignores SIGTERM, so after -t 1 everything gets SIGKILL."""
    name = f"{PREFIX}stop"
    path, pids = start_family(s, name)
    s.docker_ok("stop", "-t", "1", name)
    assert s.docker_ok("inspect", "-f", "{{.State.ExitCode}}", name) == "137"
    assert not [p for p in pids if alive(p)]
    s.docker_ok("rm", name)
    assert not cgroupfs.exists(path), "rm left the cgroup"


def docker_kill_then_rm(s: Session) -> None:
    name = f"{PREFIX}kill"
    path, pids = start_family(s, name)
    s.docker_ok("kill", name)
    assert s.docker_ok("inspect", "-f", "{{.State.ExitCode}}", name) == "137"
    assert not [p for p in pids if alive(p)]
    s.docker_ok("rm", name)
    assert not cgroupfs.exists(path), "rm left the cgroup"


def docker_rm_force(s: Session) -> None:
    """docker rm -f of a running container: its processes and its cgroup are gone."""
    name = f"{PREFIX}rmf"
    path, pids = start_family(s, name)
    s.docker_ok("rm", "-f", name)
    assert not [p for p in pids if alive(p)]
    assert not cgroupfs.exists(path), "rm -f left the cgroup"


def docker_pause_freezes_then_rm_force(s: Session) -> None:
    """docker pause: the container's cgroup is frozen (v2: cgroup.events frozen 1; v1:
    freezer.state FROZEN); unpause thaws it; rm -f of a paused one leaves nothing."""
    name = f"{PREFIX}pause"
    path, pids = start_family(s, name)
    d = cgroupfs.directory(path, "freezer")

    def frozen() -> bool:
        if cgroupfs.version() == 2:
            return cgroupfs.keyed(d / "cgroup.events")["frozen"] == 1
        return cgroupfs.read(d / "freezer.state") == "FROZEN"

    s.docker_ok("pause", name)
    assert s.docker_ok("inspect", "-f", "{{.State.Status}}", name) == "paused"
    wait_until(frozen, 30, "the cgroup frozen")
    s.docker_ok("unpause", name)
    wait_until(lambda: not frozen(), 30, "the cgroup thawed")
    s.docker_ok("pause", name)
    s.docker_ok("rm", "-f", name)  # SIGKILL, then a thaw: a frozen process cannot die
    assert not [p for p in pids if alive(p)]
    assert not cgroupfs.exists(path), "rm -f left the cgroup"


def docker_devices_default(s: Session) -> None:
    """A default container: a disk node it makes is refused; null, zero, urandom,
    ptmx work, /dev/tty is let through (ENXIO: no controlling terminal). The cgroup
    holds the program (v2) while it runs, and goes with it."""
    name = f"{PREFIX}devices"
    s.docker_ok("run", "-d", "--name", name, "busybox", "sleep", "1000")
    path = container_cgroup(s, name)
    if cgroupfs.version() == 2:
        assert len(device_programs(path)) == 1, "no device program on the cgroup"
    script = (f"mknod /tmp/disk {DISK} && echo made; head -c 1 /tmp/disk;"
              " echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c;"
              " head -c 4 /dev/urandom | wc -c; (: <> /dev/ptmx) && echo ptmx-ok;"
              " head -c 1 /dev/tty; echo end")
    result = s.docker("exec", name, "sh", "-c", script)
    s.docker_ok("rm", "-f", name)
    assert not cgroupfs.exists(path), "rm -f left the cgroup"
    assert result.stdout.split() == ["made", "null-ok", "4", "4", "ptmx-ok", "end"], result
    assert f"/tmp/disk: {REFUSED}" in result.stderr, result.stderr
    assert f"/dev/tty: {NO_DEVICE}" in result.stderr, result.stderr


def docker_device_flag_gives_exactly_that_device(s: Session) -> None:
    """--device /dev/kmsg:/dev/k:w: that node is there and writable (writing needs no
    capability, unlike reading); /dev/mem (c 1:1) and the disk, made by hand, are not."""
    script = ("ls -l /dev/k; echo wb-device-check > /dev/k && echo k-ok;"
              f" mknod /tmp/mem c 1 1; head -c 1 /tmp/mem; mknod /tmp/disk {DISK};"
              " head -c 1 /tmp/disk")
    result = s.docker("run", "--rm", "--device", "/dev/kmsg:/dev/k:w", "busybox", "sh", "-c",
                      script)
    assert result.stdout.startswith("crw") and "1,  11" in result.stdout, result
    assert "k-ok" in result.stdout, result
    assert f"/tmp/mem: {REFUSED}" in result.stderr, result.stderr
    assert f"/tmp/disk: {REFUSED}" in result.stderr, result.stderr


def docker_device_cgroup_rule(s: Session) -> None:
    """--device-cgroup-rule 'b 8:0 r': the list lets 8:0 through (the driver then says
    ENXIO), and only it: 8:1 stays refused."""
    script = (f"mknod /tmp/disk {DISK}; head -c 1 /tmp/disk; mknod /tmp/part b 8 1;"
              " head -c 1 /tmp/part")
    result = s.docker("run", "--rm", "--device-cgroup-rule", "b 8:0 r", "busybox", "sh",
                      "-c", script)
    assert f"/tmp/disk: {NO_DEVICE}" in result.stderr, result.stderr
    assert f"/tmp/part: {REFUSED}" in result.stderr, result.stderr


def docker_privileged_devices(s: Session) -> None:
    """--privileged: the host's nodes are there and the list allows everything."""
    script = (f"ls /dev/kmsg && echo x > /dev/kmsg && echo kmsg-ok; mknod /tmp/disk {DISK};"
              " head -c 1 /tmp/disk")
    result = s.docker("run", "--rm", "--privileged", "busybox", "sh", "-c", script)
    assert "kmsg-ok" in result.stdout, result
    assert f"/tmp/disk: {NO_DEVICE}" in result.stderr, result.stderr


DEVICE_CHECKS: list[Callable[[Session], None]] = [
    docker_devices_default, docker_device_flag_gives_exactly_that_device,
    docker_device_cgroup_rule, docker_privileged_devices,
]


def docker_no_cgroup_left(s: Session) -> None:
    """Every container the daemon ran is gone, and with it every cgroup they had."""
    if s._engine is None:
        raise Skip("the daemon did not run")
    assert s.docker_ok("ps", "-aq") == ""
    assert s.daemon_cgroups, "no container cgroup was seen"
    left = [d for path in s.daemon_cgroups for d in cgroupfs.exists(path)]
    assert not left, left


def docker_stats_reads_the_cgroup(s: Session) -> None:
    """docker stats --no-stream of a busy loop: CPU% from cpu.stat's usage (v2) or
    cpuacct (v1), memory in use and the -m limit."""
    name = f"{PREFIX}stats"
    s.docker_ok("run", "-d", "--name", name, "-m", "64m", "busybox", "sh", "-c",
                "while :; do :; done")
    try:
        container_cgroup(s, name)
        out = s.docker_ok("stats", "--no-stream", "--format", "{{.CPUPerc}}|{{.MemUsage}}",
                          name).strip()
        cpu, mem = out.split("|")
        assert float(cpu.rstrip("%")) > 10, out
        used, limit = (p.strip() for p in mem.split("/"))
        assert limit == "64MiB" and not used.startswith("0B"), out
        print(f"    docker stats: {out}")
    finally:
        s.docker("rm", "-f", name)


def docker_update_writes_the_cgroup(s: Session) -> None:
    """docker update of a running container: the new limits in its cgroup's files."""
    name = f"{PREFIX}update"
    s.docker_ok("run", "-d", "--name", name, "-m", "32m", "--memory-swap", "64m",
                "--pids-limit", "20", "busybox", "sleep", "60")
    try:
        path = container_cgroup(s, name)
        s.docker_ok("update", "-m", "48m", "--memory-swap", "96m", "--pids-limit", "30",
                    "--cpus", "0.5", name)
        memory = cgroupfs.read(cgroupfs.file(path, "memory", "memory.limit_in_bytes",
                                             "memory.max"))
        pids = cgroupfs.read(cgroupfs.file(path, "pids", "pids.max", "pids.max"))
        quota = cgroupfs.read(cgroupfs.file(path, "cpu", "cpu.cfs_quota_us", "cpu.max"))
        assert (memory, pids) == (str(48 << 20), "30"), (memory, pids)
        assert quota in ("50000", "50000 100000"), quota
    finally:
        s.docker("rm", "-f", name)


CHECKS: list[Callable[[Session], None]] = [
    lib_memory_limit_oom_kills, lib_pids_limit_stops_forks, lib_cpu_quota_throttles,
    lib_pause_freezes_the_group, lib_destroy_kills_the_whole_group, lib_device_allow_list,
    lib_no_cgroup_left,
    docker_memory_oom_kill, docker_pids_limit, docker_cpus_throttles, docker_limits_are_written,
    docker_more_limits_are_written, docker_refuses_what_v2_lacks, docker_cgroup_options,
    docker_stop_kills_the_whole_cgroup, docker_kill_then_rm, docker_rm_force,
    docker_pause_freezes_then_rm_force, docker_oom_kill_disable, *DEVICE_CHECKS,
    docker_stats_reads_the_cgroup, docker_update_writes_the_cgroup,
    docker_no_cgroup_left,
]


@contextlib.contextmanager
def session() -> Iterator[Session]:
    if os.geteuid() != 0:
        raise Skip("containers need root")
    set_child_subreaper()  # the containers' inits become our children to reap
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="wb-cgroupv2-", dir="/tmp"))
        stack.callback(shutil.rmtree, workdir, True)
        yield Session(workdir, stack)
