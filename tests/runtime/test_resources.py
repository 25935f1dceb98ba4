"""config-linux.md Control groups: cgroupsPath and linux.resources (memory, cpu, pids,
blockIO, hugepageLimits, network, unified), read back from the container's cgroup on
this host (cgroup v1 controllers; the empty cgroup2 tree beside them is not used)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.runtime.conftest import CGROUP_PARENT, Bundle, Runtime, container_cgroups, xfail_on

V1 = "/sys/fs/cgroup"


@pytest.fixture(autouse=True)
def cgroup_v1_host() -> None:
    if not os.path.isdir(f"{V1}/memory"):
        pytest.skip("these checks read cgroup v1 files")


def cgroup_file(b: Bundle, controller: str, name: str) -> str:
    return Path(V1, controller, CGROUP_PARENT, b.cid, name).read_text().strip()


def created(rt: Runtime, b: Bundle) -> None:
    r = rt.create(b, check=False)
    assert r.returncode == 0, r.stderr


def refused(rt: Runtime, b: Bundle) -> None:
    """runtime.md Create: "If the runtime cannot apply a property as specified in the
    configuration, it MUST generate an error and a new container MUST NOT be created";
    Errors: "generating an error MUST leave the state of the environment as if the
    operation were never attempted": no cgroup left either (checked here, and removed
    if there is one, so that the harness's own leak check does not fail twice)."""
    assert rt.create(b, check=False).returncode != 0
    assert rt("state", b.cid, check=False).returncode != 0
    left = container_cgroups(b.cid)
    for directory in left:
        os.rmdir(directory)
    assert not left, f"cgroups left by the failed create: {left}"


def resources(b: Bundle) -> dict:
    return b.linux["resources"]


def test_cgroups_path_absolute(rt: Runtime, bundle) -> None:
    """config-linux.md Cgroups Path: "In the case of an absolute path (starting with /),
    the runtime MUST take the path to be relative to the cgroups mount point"; "The
    cgroups will be created if they don't exist"."""
    b = bundle(["sleep", "1000"])
    created(rt, b)
    with open(f"/proc/{rt.pid(b)}/cgroup") as f:
        lines = f.read().splitlines()
    memory = next(line for line in lines if line.split(":")[1] == "memory")
    assert memory.endswith(f":/{CGROUP_PARENT}/{b.cid}")
    assert rt.pid(b) in map(int, cgroup_file(b, "memory", "cgroup.procs").split())


def test_cgroups_path_relative_is_consistent(rt: Runtime, bundle) -> None:
    """config-linux.md Cgroups Path: "In the case of a relative path ... the runtime MAY
    interpret the path relative to a runtime-determined location"; "the runtime MUST
    consistently attach to the same place in the cgroups hierarchy given the same value
    of cgroupsPath"."""
    places = []
    for _ in range(2):
        b = bundle(["true"])
        b.linux["cgroupsPath"] = f"{CGROUP_PARENT}/relative-{b.cid.split('-')[0]}"
        created(rt, b)
        with open(f"/proc/{rt.pid(b)}/cgroup") as f:
            pids = next(line for line in f.read().splitlines() if line.split(":")[1] == "pids")
        assert pids.endswith("/" + b.linux["cgroupsPath"])
        places.append(pids)
        rt("delete", "--force", b.cid)
    assert places[0] == places[1]


def test_memory(rt: Runtime, bundle) -> None:
    """config-linux.md Memory: "limit (int64, OPTIONAL) - sets limit of memory usage";
    "reservation ... sets soft limit"; "swap ... sets limit of memory+Swap usage";
    "swappiness (uint64, OPTIONAL) - sets swappiness parameter of vmscan"."""
    b = bundle(["sleep", "1000"])
    resources(b)["memory"] = {"limit": 64 << 20, "reservation": 32 << 20, "swap": 128 << 20,
                              "swappiness": 10}
    created(rt, b)
    assert cgroup_file(b, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cgroup_file(b, "memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert cgroup_file(b, "memory", "memory.memsw.limit_in_bytes") == str(128 << 20)
    assert cgroup_file(b, "memory", "memory.swappiness") == "10"


@xfail_on("runc", "runc 1.1.5 ignores kernelTCP with a warning (\"Kernel memory settings "
                  "are ignored\")")
def test_memory_kernel_tcp(rt: Runtime, bundle) -> None:
    """config-linux.md Memory: "kernelTCP (int64, OPTIONAL, NOT RECOMMENDED) - sets hard
    limit for kernel TCP buffer memory"."""
    b = bundle(["true"])
    resources(b)["memory"] = {"kernelTCP": 16 << 20}
    created(rt, b)
    assert cgroup_file(b, "memory", "memory.kmem.tcp.limit_in_bytes") == str(16 << 20)


@xfail_on("crun", "crun 1.8.1 writes memory.kmem.limit_in_bytes, which Linux 6.x ignores")
@xfail_on("runc", "runc 1.1.5 ignores kernel memory with a warning")
def test_memory_kernel_fails_where_the_kernel_ignores_it(rt: Runtime, bundle) -> None:
    """config-linux.md Memory: "kernel (int64, OPTIONAL, NOT RECOMMENDED) - sets hard
    limit for kernel memory": since Linux 6.1 memory.kmem.limit_in_bytes takes a write
    and keeps no limit, so the property cannot be applied."""
    b = bundle(["true"])
    resources(b)["memory"] = {"kernel": 64 << 20}
    refused(rt, b)


def test_cpu(rt: Runtime, bundle) -> None:
    """config-linux.md CPU: "shares (uint64, OPTIONAL) - specifies a relative share of
    CPU time"; "quota ... the total amount of time in microseconds for which all tasks
    in a cgroup can run during one period"; "period ... for how regularly a cgroup's
    access to CPU resources should be reallocated"; "cpus", "mems"."""
    b = bundle(["true"])
    resources(b)["cpu"] = {"shares": 512, "quota": 50000, "period": 200000, "cpus": "0",
                           "mems": "0"}
    created(rt, b)
    assert cgroup_file(b, "cpu", "cpu.shares") == "512"
    assert cgroup_file(b, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cgroup_file(b, "cpu", "cpu.cfs_period_us") == "200000"
    assert cgroup_file(b, "cpuset", "cpuset.cpus") == "0"
    assert cgroup_file(b, "cpuset", "cpuset.mems") == "0"


@xfail_on("crun", "crun 1.8.1 ignores cpu.burst")
@xfail_on("runc", "runc 1.1.5 ignores cpu.burst (runc 1.2 sets it)")
def test_cpu_burst(rt: Runtime, bundle) -> None:
    """config-linux.md CPU: "burst (uint64, OPTIONAL) - specifies the maximum amount of
    accumulated time in microseconds for which all tasks in a cgroup can run additionally
    for burst during one period"."""
    b = bundle(["true"])
    resources(b)["cpu"] = {"quota": 50000, "period": 100000, "burst": 20000}
    created(rt, b)
    assert cgroup_file(b, "cpu", "cpu.cfs_burst_us") == "20000"


@xfail_on("runc", "runc 1.1.5 ignores cpu.idle on cgroup v1")
def test_cpu_idle(rt: Runtime, bundle) -> None:
    """config-linux.md CPU: "idle (int64, OPTIONAL) - cgroups are configured with minimum
    weight, 0: default behavior, 1: SCHED_IDLE"."""
    b = bundle(["true"])
    resources(b)["cpu"] = {"idle": 1}
    created(rt, b)
    assert cgroup_file(b, "cpu", "cpu.idle") == "1"


def test_pids(rt: Runtime, bundle) -> None:
    """config-linux.md PIDs: "limit (int64, OPTIONAL) - specifies the maximum number of
    tasks in the cgroup": with 1, the container's shell is the one task, and its fork
    of a subshell fails."""
    b = bundle(["sh", "-c", "(true); echo forked"])
    resources(b)["pids"] = {"limit": 1}
    created(rt, b)
    assert cgroup_file(b, "pids", "pids.max") == "1"
    rt("start", b.cid)
    assert rt.wait(rt.pid(b)) != 0
    assert b.output() == ""
    assert "fork" in (b.path / "create.err").read_text()


def test_pids_allows_up_to_the_limit(rt: Runtime, bundle) -> None:
    """config-linux.md PIDs: the limit counts tasks: 2 lets the shell fork once."""
    b = bundle(["sh", "-c", "(true); echo forked"])
    resources(b)["pids"] = {"limit": 2}
    created(rt, b)
    rt("start", b.cid)
    assert rt.wait(rt.pid(b)) == 0
    assert b.output() == "forked\n"


def test_block_io_throttle(rt: Runtime, bundle) -> None:
    """config-linux.md Block IO: "throttleReadBpsDevice, throttleWriteBpsDevice ... an
    array of per-device bandwidth rate limits"; "rate (uint64, REQUIRED) - bandwidth rate
    limit in bytes per second for the device"."""
    dev = os.stat("/").st_dev
    major, minor = os.major(dev), os.minor(dev)
    b = bundle(["true"])
    resources(b)["blockIO"] = {
        "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1 << 20}],
        "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 300}]}
    created(rt, b)
    assert cgroup_file(b, "blkio", "blkio.throttle.read_bps_device") == \
        f"{major}:{minor} {1 << 20}"
    assert cgroup_file(b, "blkio", "blkio.throttle.write_iops_device") == \
        f"{major}:{minor} 300"


@xfail_on("crun", "crun 1.8.1 leaves the cgroups of the create that failed")
def test_hugepage_limits_without_the_controller_fail(rt: Runtime, bundle) -> None:
    """config-linux.md Huge page limits: "hugepageLimits (array of objects, OPTIONAL)
    represents the hugetlb controller": this host has not mounted it, so the limit
    cannot be applied."""
    assert not os.path.isdir(f"{V1}/hugetlb"), "this host mounts hugetlb"
    b = bundle(["true"])
    resources(b)["hugepageLimits"] = [{"pageSize": "2MB", "limit": 4 << 20}]
    refused(rt, b)


@xfail_on("crun", "crun 1.8.1 leaves the cgroups of the create that failed")
def test_network_class_id_without_net_cls_fails(rt: Runtime, bundle) -> None:
    """config-linux.md Network: "network (object, OPTIONAL) represents the cgroup
    subsystems net_cls and net_prio"; "classID (uint32, OPTIONAL) - is the network class
    identifier the cgroup's network packets will be tagged with": without net_cls
    mounted it cannot be."""
    assert not os.path.isdir(f"{V1}/net_cls"), "this host mounts net_cls"
    b = bundle(["true"])
    resources(b)["network"] = {"classID": 0x100001}
    refused(rt, b)


@xfail_on("crun", "crun 1.8.1 leaves the cgroups of the create that failed")
def test_network_priorities_without_net_prio_fail(rt: Runtime, bundle) -> None:
    """config-linux.md Network: "priorities (array of objects, OPTIONAL) - specifies a
    list of objects of the priorities assigned to traffic originating from processes in
    the group"."""
    assert not os.path.isdir(f"{V1}/net_prio"), "this host mounts net_prio"
    b = bundle(["true"])
    resources(b)["network"] = {"priorities": [{"name": "lo", "priority": 5}]}
    refused(rt, b)


@xfail_on("crun", "crun 1.8.1 leaves the cgroups of the create that failed")
def test_unified_on_cgroup_v1_fails(rt: Runtime, bundle) -> None:
    """config-linux.md Unified: "unified (object, OPTIONAL) allows cgroup v2 parameters
    to be set"; "The runtime MUST generate an error when the configuration refers to a
    cgroup controller that is not present or that cannot be enabled": the controllers
    are v1's here."""
    b = bundle(["true"])
    resources(b)["unified"] = {"memory.high": str(64 << 20)}
    refused(rt, b)
