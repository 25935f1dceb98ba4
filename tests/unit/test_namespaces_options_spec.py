"""Unit tests, pure (no root, no LXC): --pid/--ipc/--uts/--cgroupns, --shm-size, --tmpfs,
--init, --cpuset-*, --cgroup-parent as spec fields and as stage 1's LXC lines, and the
create-time refusals in dockerd's words. Containers running them:
tests/behaviour/test_namespaces_options.py."""

from __future__ import annotations

import pytest

from shared.oci import runtime_spec, tmpfs
from shared.oci.runtime_spec import SpecError
from shared.oci.users import User
from stages.stage1_lxc import lxc_config

CID = "c" * 64


def spec(host_config: dict, **kwargs) -> dict:
    return runtime_spec.build(CID, ["sleep", "1"], {"Hostname": "h"}, host_config,
                              "/r/rootfs", User(0, 0, (), "/root"), **kwargs)


def types(s: dict) -> dict[str, str | None]:
    return {n["type"]: n.get("path") for n in s["linux"]["namespaces"]}


def test_host_modes_drop_the_namespaces() -> None:
    s = spec({"PidMode": "host", "IpcMode": "host", "UTSMode": "host",
              "CgroupnsMode": "host"}, shm_source="/dev/shm")
    assert set(types(s)) == {"network", "mount"}
    assert s["hostname"] == ""
    shm = next(m for m in s["mounts"] if m["destination"] == "/dev/shm")
    assert shm["source"] == "/dev/shm" and shm["type"] == "bind"
    lines = lxc_config.namespaces(s)
    assert "lxc.namespace.share.pid = /proc/self/ns/pid" in lines
    assert "lxc.namespace.share.uts = /proc/self/ns/uts" in lines
    assert "lxc.namespace.clone = net mnt" in lines


def test_container_modes_join_by_path() -> None:
    s = spec({"PidMode": "container:x", "IpcMode": "container:x"},
             joined={"pid": "/proc/42/ns/pid", "ipc": "/proc/42/ns/ipc"})
    assert types(s)["pid"] == "/proc/42/ns/pid"
    assert types(s)["ipc"] == "/proc/42/ns/ipc"
    lines = lxc_config.namespaces(s)
    assert "lxc.namespace.share.pid = /proc/42/ns/pid" in lines
    assert "lxc.namespace.share.ipc = /proc/42/ns/ipc" in lines
    assert not any(x.startswith("lxc.namespace.clone") for x in lines)  # cgroup ns: new


def test_shm_size_and_ipc_none() -> None:
    shm = next(m for m in spec({"ShmSize": 1 << 20})["mounts"]
               if m["destination"] == "/dev/shm")
    assert [o for o in shm["options"] if o.startswith("size=")] == ["size=1048576"]
    assert all(m["destination"] != "/dev/shm" for m in spec({"IpcMode": "none"})["mounts"])


def test_tmpfs_mounts_and_lxc_entry() -> None:
    s = spec({"Tmpfs": {"/run": "size=1m,exec", "/dev/shm": ""}})
    run = next(m for m in s["mounts"] if m["destination"] == "/run")
    assert run["options"] == ["nosuid", "nodev", "rprivate", "size=1m", "exec"]
    assert [m["type"] for m in s["mounts"] if m["destination"] == "/dev/shm"] == ["tmpfs"]
    assert ("lxc.mount.entry = tmpfs run tmpfs nosuid,nodev,rprivate,size=1m,exec,"
            "create=dir 0 0") in lxc_config.mounts(s)


@pytest.mark.parametrize(("dest", "data", "message"), [
    ("run", "", "invalid mount path: 'run' mount path must be absolute"),
    ("/", "", "invalid specification: destination can't be '/'"),
    ("/x", "bogus", 'invalid tmpfs option ["bogus"]'),
    ("/x", "uid=0,foo=1", 'invalid tmpfs option ["foo" "1"]'),
])
def test_bad_tmpfs(dest: str, data: str, message: str) -> None:
    with pytest.raises(tmpfs.TmpfsError, match=message.replace("[", r"\[")):
        tmpfs.check({"Tmpfs": {dest: data}})


def test_init_is_bound_and_prepended() -> None:
    s = spec({"Init": True})
    assert s["process"]["args"] == ["/sbin/docker-init", "--", "sleep", "1"]
    init = next(m for m in s["mounts"] if m["destination"] == "/sbin/docker-init")
    assert init["options"] == ["bind", "ro"]


def test_cpuset_and_cgroup_parent_lines() -> None:
    s = spec({"CpusetCpus": "0", "CpusetMems": "0", "CgroupParent": "mine/sub"})
    assert s["linux"]["cgroupsPath"] == f"/mine/sub/{CID}"
    assert "lxc.cgroup.cpuset.cpus = 0" in lxc_config.cgroups(s, 1)
    assert "lxc.cgroup2.cpuset.mems = 0" in lxc_config.cgroups(s, 2)
    assert f"lxc.cgroup.dir.container = mine/sub/{CID}" in lxc_config.cgroup_dirs(s)


@pytest.mark.parametrize(("host_config", "message"), [
    ({"ShmSize": -1}, "SHM size can not be less than 0"),
    ({"UTSMode": "host"}, "conflicting options: hostname and the UTS mode"),
    ({"PidMode": "bogus"}, "invalid PID mode: bogus"),
    ({"IpcMode": "container:"}, "invalid IPC mode: container:"),
    ({"CgroupnsMode": "foo"}, "invalid cgroup namespace mode: foo"),
])
def test_create_time_refusals(host_config: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        runtime_spec.check_host_options({"Hostname": "h"}, host_config)


def test_cpuset_check() -> None:
    runtime_spec.check_cpuset("0,1", "0-1", "cpus", "CPUs")
    with pytest.raises(SpecError, match="Requested CPUs are not available - requested 5, "
                                        "available: 0-1"):
        runtime_spec.check_cpuset("5", "0-1", "cpus", "CPUs")
    with pytest.raises(SpecError, match="Invalid value a for cpuset mems: invalid format: a"):
        runtime_spec.check_cpuset("a", "0", "mems", "memory nodes")


def test_cli_flags_become_host_config() -> None:
    from shared.client.commands import run
    from shared.client.containerconfig import build

    options, args = run.COMMAND.parse([
        "--pid", "host", "--ipc", "container:db", "--uts", "host", "--cgroupns", "private",
        "--shm-size", "1g", "--tmpfs", "/run:size=1m,exec", "--tmpfs", "/tmp", "--init",
        "--cpuset-cpus", "0-1", "--cpuset-mems", "0", "--cgroup-parent", "/p", "busybox"])
    host = build(options, args[0], [], attach=False)["HostConfig"]
    assert {k: host[k] for k in ("PidMode", "IpcMode", "UTSMode", "CgroupnsMode", "ShmSize",
                                 "Tmpfs", "Init", "CpusetCpus", "CpusetMems",
                                 "CgroupParent")} == {
        "PidMode": "host", "IpcMode": "container:db", "UTSMode": "host",
        "CgroupnsMode": "private", "ShmSize": 1 << 30,
        "Tmpfs": {"/run": "size=1m,exec", "/tmp": ""}, "Init": True, "CpusetCpus": "0-1",
        "CpusetMems": "0", "CgroupParent": "/p"}


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--pid", "container:", "--pid: invalid PID mode"),
    ("--ipc", "bogus", "--ipc: invalid IPC mode"),
    ("--uts", "private", "--uts: invalid UTS mode"),
    ("--cgroupns", "x", "--cgroupns: invalid CGROUP mode"),
])
def test_cli_refuses_bad_modes(flag: str, value: str, message: str) -> None:
    from shared.client.commands import run
    from shared.client.containerconfig import BadOption, build

    options, args = run.COMMAND.parse([flag, value, "busybox"])
    with pytest.raises(BadOption, match=message):
        build(options, args[0], [], attach=False)
