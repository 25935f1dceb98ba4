"""specconv: an OCI spec in, a typed Config out, or an error that names the field.

Unit tests: no kernel, no root. The spec is the one the daemon starts from
(shared/oci/defaults.py), as a container's would be.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.oci.defaults import DEFAULT_CAPABILITIES, MASKED_PATHS, default_spec
from stages.stage2_libcontainer.libcontainer import ContainerError, configs, specconv
from stages.stage2_libcontainer.libcontainer.specconv import InvalidSpec


def good_spec() -> dict:
    spec = default_spec()
    spec["root"] = {"path": "/var/lib/x/rootfs", "readonly": True}
    spec["hostname"] = "web"
    spec["process"].update(
        args=["sh", "-c", "echo hi"], cwd="/tmp", terminal=True,
        consoleSize={"height": 24, "width": 80},
        user={"uid": 1000, "gid": 1000, "additionalGids": [10, 20]},
        rlimits=[{"type": "RLIMIT_NOFILE", "soft": 99, "hard": 100}], oomScoreAdj=500,
        noNewPrivileges=True)
    spec["process"]["capabilities"]["ambient"] = ["kill"]
    spec["mounts"].append({"destination": "/data", "type": "bind", "source": "/srv",
                           "options": ["rbind", "ro"]})
    linux = spec["linux"]
    linux["namespaces"][1] = {"type": "network", "path": "/proc/42/ns/net"}
    linux["cgroupsPath"] = "/whalebones/abc"
    linux["resources"].update(memory={"limit": 64 << 20, "swap": 96 << 20,
                                      "disableOOMKiller": True},
                              pids={"limit": 10},
                              cpu={"shares": 512, "quota": 50000, "period": 100000,
                                   "cpus": "0-1"})
    linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]
    linux["sysctl"] = {"kernel.shm_rmid_forced": "1"}
    spec["annotations"] = {"org.opencontainers.image.stopSignal": "SIGTERM"}
    return spec


def test_a_good_spec_becomes_the_expected_config() -> None:
    c = specconv.to_config(good_spec())
    assert (c.rootfs, c.readonly_rootfs, c.hostname) == ("/var/lib/x/rootfs", True, "web")
    p = c.process
    assert (p.args, p.cwd, p.terminal, p.console_size) == (
        ["sh", "-c", "echo hi"], "/tmp", True, (24, 80))
    assert p.user == configs.User(1000, 1000, [10, 20])
    assert p.rlimits == [configs.Rlimit("RLIMIT_NOFILE", 99, 100)]
    assert (p.oom_score_adj, p.no_new_privileges) == (500, True)
    assert c.resources.disable_oom_killer
    assert p.capabilities is not None
    assert p.capabilities.bounding == DEFAULT_CAPABILITIES
    assert (p.capabilities.inheritable, p.capabilities.ambient) == ([], ["CAP_KILL"])
    assert [(n.type, n.path) for n in c.namespaces] == [
        ("pid", ""), ("network", "/proc/42/ns/net"), ("ipc", ""), ("uts", ""),
        ("mount", ""), ("cgroup", "")]
    assert c.new_namespaces() == {"pid", "ipc", "uts", "mount", "cgroup"}
    assert c.mounts[0] == configs.Mount("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"])
    assert c.mounts[-1] == configs.Mount("/data", "bind", "/srv", ["rbind", "ro"])
    assert c.devices == [configs.Device("/dev/fuse", "c", 10, 229)]
    r = c.resources
    assert (r.memory, r.memory_swap, r.pids_limit) == (64 << 20, 96 << 20, 10)
    assert (r.cpu_shares, r.cpu_quota, r.cpu_period, r.cpuset_cpus, r.cpuset_mems) == (
        512, 50000, 100000, "0-1", "")
    assert r.devices[0] == configs.DeviceRule(allow=False, type="a", access="rwm")
    assert r.devices[3] == configs.DeviceRule(True, "c", 1, 3, "rwm")
    assert (c.cgroups_path, c.rootfs_propagation) == ("/whalebones/abc", "rprivate")
    assert c.sysctl == {"kernel.shm_rmid_forced": "1"}
    assert c.masked_paths == MASKED_PATHS and "/proc/sys" in c.readonly_paths
    assert (c.oci_version, c.annotations) == (
        "1.0.2", {"org.opencontainers.image.stopSignal": "SIGTERM"})


def test_what_a_spec_leaves_out_takes_the_defaults() -> None:
    c = specconv.to_config({"root": {"path": "/r"}, "process": {"args": ["true"]}})
    assert c == configs.Config(rootfs="/r", process=configs.Process(args=["true"]))
    assert c.process.capabilities is None  # none given: none changed
    assert c.resources == configs.Resources()


def test_a_process_for_exec_alone() -> None:
    p = specconv.to_process({"args": ["ls"], "env": ["PATH=/bin"], "cwd": ""}, "process")
    assert (p.args, p.env, p.cwd, p.user) == (["ls"], ["PATH=/bin"], "/", configs.User())


def test_runc_updates_resources_alone() -> None:
    r = specconv.to_resources({"memory": {"limit": 1 << 20}, "pids": {"limit": -1}},
                              "resources")
    assert (r.memory, r.pids_limit, r.cpu_shares) == (1 << 20, -1, 0)


def put(path: str, value: object) -> Callable[[dict], None]:
    """A change to a spec: set the field at `path` (dots, and [i] for list items)."""
    def change(spec: dict) -> None:
        *parents, last = path.replace("[", ".").replace("]", "").split(".")
        node: object = spec
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]  # type: ignore[index]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value  # type: ignore[index]
    return change


# Each kind of bad field, and the error naming it.
BAD = [
    ("root.path", "rootfs", 'specconv: root.path: must be an absolute path, not "rootfs"'),
    ("root.readonly", "yes", 'specconv: root.readonly: must be true or false, not "yes"'),
    ("process", None, "specconv: process: is missing"),
    ("process.args", [], "specconv: process.args: must not be empty"),
    ("process.args[1]", 3, "specconv: process.args[1]: must be a string, not 3"),
    ("process.env", "A=1", 'specconv: process.env: must be a list, not "A=1"'),
    ("process.user.uid", "1000", 'specconv: process.user.uid: must be an integer, not "1000"'),
    ("process.user.additionalGids", [10, "x"],
     'specconv: process.user.additionalGids[1]: must be an integer, not "x"'),
    ("process.capabilities.bounding[2]", "CAP_NOPE",
     'specconv: process.capabilities.bounding[2]: unknown capability "CAP_NOPE"'),
    ("process.rlimits", [{"type": "RLIMIT_NOPE", "soft": 1, "hard": 1}],
     'specconv: process.rlimits[0].type: unknown rlimit type "RLIMIT_NOPE"'),
    ("process.rlimits", [{"type": "RLIMIT_NOFILE", "hard": 1}],
     "specconv: process.rlimits[0].soft: is missing"),
    ("process.noNewPrivileges", 1,
     "specconv: process.noNewPrivileges: must be true or false, not 1"),
    ("process.oomScoreAdj", 1.5, "specconv: process.oomScoreAdj: must be an integer, not 1.5"),
    ("process.consoleSize", [24, 80],
     "specconv: process.consoleSize: must be an object, not [24, 80]"),
    ("hostname", 7, "specconv: hostname: must be a string, not 7"),
    ("mounts[2].destination", "", "specconv: mounts[2].destination: is missing"),
    ("mounts[0].options", ["ro", None],
     "specconv: mounts[0].options[1]: must be a string, not null"),
    ("linux.namespaces[2].type", "foo",
     'specconv: linux.namespaces[2].type: unknown namespace type "foo"'),
    ("linux.namespaces[2].type", "pid",
     'specconv: linux.namespaces[2].type: duplicated namespace "pid"'),
    ("linux.devices", [{"path": "/dev/x", "type": "z", "major": 1, "minor": 1}],
     'specconv: linux.devices[0].type: unknown device type "z"'),
    ("linux.devices", [{"path": "/dev/x", "minor": 1}],
     "specconv: linux.devices[0].major: is missing"),
    ("linux.resources.memory", {"limit": "64m"},
     'specconv: linux.resources.memory.limit: must be an integer, not "64m"'),
    ("linux.resources.pids", 10, "specconv: linux.resources.pids: must be an object, not 10"),
    ("linux.resources.devices[1].type", "x",
     'specconv: linux.resources.devices[1].type: unknown device type "x"'),
    ("linux.cgroupsPath", ["a"], 'specconv: linux.cgroupsPath: must be a string, not ["a"]'),
    ("linux.rootfsPropagation", "everywhere",
     'specconv: linux.rootfsPropagation: unknown propagation "everywhere"'),
    ("linux.sysctl", {"kernel.x": 1}, "specconv: linux.sysctl.kernel.x: must be a string, not 1"),
    ("linux.maskedPaths", "/proc/kcore",
     'specconv: linux.maskedPaths: must be a list, not "/proc/kcore"'),
    ("annotations", {"a": True}, "specconv: annotations.a: must be a string, not true"),
]


@pytest.mark.parametrize("field, value, message", BAD, ids=[f"{f}={v!r}" for f, v, _ in BAD])
def test_a_bad_field_is_named(field: str, value: object, message: str) -> None:
    spec = good_spec()
    put(field, value)(spec)
    with pytest.raises(InvalidSpec) as e:
        specconv.to_config(spec)
    assert str(e.value) == message
    assert isinstance(e.value, ContainerError)  # what libcontainer's callers catch


def test_not_a_spec_at_all() -> None:
    with pytest.raises(InvalidSpec, match="^specconv: spec: must be an object, not"):
        specconv.to_config([])  # type: ignore[arg-type]


def test_block_io_and_the_other_limits_are_read() -> None:
    r = specconv.to_resources({
        "memory": {"reservation": 32 << 20, "swappiness": 0},
        "cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 950000},
        "blockIO": {"weight": 300, "throttleReadBpsDevice": [
            {"major": 8, "minor": 0, "rate": 1 << 20}]},
    }, "resources")
    assert (r.memory_reservation, r.memory_swappiness) == (32 << 20, 0)
    assert (r.cpu_rt_period, r.cpu_rt_runtime) == (1000000, 950000)
    assert r.block_io.weight == 300
    assert r.block_io.read_bps == [configs.BlockDeviceLimit(8, 0, 1 << 20)]
    assert specconv.to_resources({}, "r").memory_swappiness is None  # the kernel's own


def test_a_block_device_limit_needs_its_numbers() -> None:
    with pytest.raises(specconv.InvalidSpec, match=r"throttleReadBpsDevice\[0\].major"):
        specconv.to_resources({"blockIO": {"throttleReadBpsDevice": [{"rate": 1}]}}, "r")
