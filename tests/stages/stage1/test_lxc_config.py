"""Unit tests of the OCI spec -> LXC config translation (pure text: no LXC needed)."""

from __future__ import annotations

import pytest

from shared.oci import runtime_spec
from shared.oci.users import User
from stages.stage1_lxc import lxc_config

PATHS = lxc_config.Paths(state_dir="/s", log="/s/lxc.log", rootfs_mount="/s/rootfs-mount",
                         hook="/s/hooks.sh")
CID = "c" * 64
ROOT = User(0, 0, (), "/root")
BOX = {"Hostname": "box"}


def spec(host_config: dict | None = None, config: dict | None = None,
         user: User = ROOT) -> dict:
    return runtime_spec.build(CID, ["true"], {"Hostname": "box", **(config or {})},
                              host_config or {}, "/r/rootfs", user)


def test_docker_run_m_u_w() -> None:
    """`docker run -m 32m -u 1000 -w /tmp busybox` -> the lines that say so."""
    s = spec({"Memory": 32 * 1024 * 1024}, {"WorkingDir": "/tmp"}, User(1000, 1000))
    text = lxc_config.render(s, PATHS, cgroup_version=1, is_dir=lambda p: False)
    lines = text.splitlines()
    for expected in [
        "lxc.rootfs.path = dir:/r/rootfs",
        "lxc.uts.name = box",
        "lxc.net.0.type = empty",
        f"lxc.cgroup.dir.container = whalebones/{CID}",
        "lxc.cgroup.memory.limit_in_bytes = 33554432",
        "lxc.init.uid = 1000",
        "lxc.init.gid = 1000",
        "lxc.init.cwd = /tmp",
        "lxc.console.path = none",
        "lxc.apparmor.profile = unconfined",
    ]:
        assert expected in lines, expected
    assert "lxc.no_new_privs = 1" not in lines  # Docker's default: off


def test_cgroup_v1_and_v2_keys() -> None:
    s = spec({"Memory": 64 << 20, "NanoCpus": 500_000_000, "PidsLimit": 10, "CpuShares": 512})
    v1 = lxc_config.cgroups(s, 1)
    assert "lxc.cgroup.cpu.cfs_quota_us = 50000" in v1
    assert "lxc.cgroup.cpu.cfs_period_us = 100000" in v1
    assert "lxc.cgroup.pids.max = 10" in v1
    assert "lxc.cgroup.devices.deny = a" in v1
    assert "lxc.cgroup.devices.allow = c 1:3 rwm" in v1
    v2 = lxc_config.cgroups(s, 2)
    assert "lxc.cgroup2.memory.max = 67108864" in v2
    assert "lxc.cgroup2.cpu.max = 50000 100000" in v2
    assert "lxc.cgroup2.pids.max = 10" in v2
    assert not [ln for ln in v2 if ln.startswith("lxc.cgroup.")]


def test_capabilities_are_kept_by_name() -> None:
    (keep,) = lxc_config.capabilities(spec())
    assert keep.startswith("lxc.cap.keep = chown dac_override ")
    assert "audit_write" in keep and "sys_admin" not in keep
    assert lxc_config.capabilities({"process": {"capabilities": {"bounding": []}}}) == [
        "lxc.cap.keep = none"]


def test_host_network_shares_the_daemons_namespace() -> None:
    lines = lxc_config.namespaces(spec({"NetworkMode": "host"}))
    assert lines == ["lxc.namespace.share.net = /proc/self/ns/net"]
    assert lxc_config.namespaces(spec()) == ["lxc.net.0.type = empty"]


def test_mounts_use_lxc_own_for_proc_sys_dev() -> None:
    extra = [{"destination": "/etc/hosts", "type": "bind", "source": "/x/my hosts",
              "options": ["rbind", "rprivate"]}]
    s = runtime_spec.build(CID, ["true"], BOX, {}, "/r", User(0, 0),
                           extra_mounts=extra)
    lines = lxc_config.mounts(s)
    assert lines[0] == "lxc.mount.auto = proc:mixed sys:ro cgroup:ro"
    assert "lxc.autodev = 1" in lines and "lxc.pty.max = 1024" in lines
    assert ("lxc.mount.entry = shm dev/shm tmpfs "
            "nosuid,noexec,nodev,mode=1777,size=67108864,create=dir 0 0") in lines
    assert "lxc.mount.entry = /x/my\\040hosts etc/hosts none rbind,create=file 0 0" in lines


def test_masks_and_read_only_paths() -> None:
    lines = lxc_config.masks(spec(), PATHS, is_dir=lambda p: p == "/proc/acpi")
    assert "lxc.mount.entry = /dev/null proc/kcore none bind,optional 0 0" in lines
    assert "lxc.mount.entry = tmpfs proc/acpi tmpfs ro,optional 0 0" in lines
    assert ("lxc.mount.entry = /s/rootfs-mount/proc/bus proc/bus none bind,ro,optional 0 0"
            in lines)
    assert not [ln for ln in lines if "proc/sys " in ln]  # proc:mixed does that one


def test_terminal_and_environment() -> None:
    s = spec({}, {"Tty": True, "Env": ["A=b c"]})
    assert lxc_config.console(s) == []  # LXC's default: a console pty
    assert "lxc.environment = A=b c" in lxc_config.process(s)
    assert "lxc.environment = TERM=xterm" in lxc_config.process(s)


def test_readonly_rootfs() -> None:
    assert "lxc.rootfs.options = ro" in lxc_config.rootfs(spec({"ReadonlyRootfs": True}), PATHS)


def test_hook_script_names_its_files() -> None:
    text = lxc_config.hook_script(PATHS, "/s/start", "/s/pid", ["/cg/memory.oom_control"],
                                  "/s/oom")
    assert "read _ < '/s/start'" in text
    assert "cat '/cg/memory.oom_control'" in text and "> '/s/oom'" in text
    assert lxc_config.hooks(PATHS) == ["lxc.hook.start-host = /bin/sh /s/hooks.sh",
                                       "lxc.hook.stop = /bin/sh /s/hooks.sh"]


PLAN = {"bridge": "wb0", "host_end": "wbv0123456789ab", "ifname": "eth0",
        "mac": "02:42:ac:11:00:02", "address": "172.17.0.2", "prefixlen": 16,
        "gateway": "172.17.0.1", "default_route": True}


def test_the_daemons_plan_becomes_lxc_net_keys() -> None:
    """Bridge networking: no namespace to share, an lxc.net.N veth per endpoint,
    the default route on eth0's only, the broadcast address said outright."""
    second = {**PLAN, "bridge": "wb-abc", "host_end": "wbvfedcba987654", "ifname": "eth1",
              "mac": "02:42:0a:00:00:05", "address": "10.0.0.5", "prefixlen": 24,
              "gateway": "10.0.0.1", "default_route": False}
    s = runtime_spec.build(CID, ["true"], BOX, {}, "/r", ROOT,
                           interfaces=[PLAN, second])
    assert lxc_config.namespaces(s) == [
        "lxc.net.0.type = veth",
        "lxc.net.0.link = wb0",
        "lxc.net.0.veth.pair = wbv0123456789ab",
        "lxc.net.0.name = eth0",
        "lxc.net.0.hwaddr = 02:42:ac:11:00:02",
        "lxc.net.0.ipv4.address = 172.17.0.2/16 172.17.255.255",
        "lxc.net.0.ipv4.gateway = 172.17.0.1",
        "lxc.net.0.flags = up",
        "lxc.net.1.type = veth",
        "lxc.net.1.link = wb-abc",
        "lxc.net.1.veth.pair = wbvfedcba987654",
        "lxc.net.1.name = eth1",
        "lxc.net.1.hwaddr = 02:42:0a:00:00:05",
        "lxc.net.1.ipv4.address = 10.0.0.5/24 10.0.0.255",
        "lxc.net.1.flags = up",
    ]


def test_a_host_end_name_lxc_would_replace_is_refused() -> None:
    """LXC 5.0 logs a name over IFNAMSIZ and makes a vethXXXXXX of its own instead."""
    s = runtime_spec.build(CID, ["true"], BOX, {}, "/r", ROOT,
                           interfaces=[{**PLAN, "host_end": "wbv0123456789abc"}])
    with pytest.raises(ValueError, match="wbv0123456789abc"):
        lxc_config.namespaces(s)


def test_host_network_ignores_a_plan() -> None:
    s = runtime_spec.build(CID, ["true"], BOX, {"NetworkMode": "host"}, "/r", ROOT,
                           interfaces=[PLAN])
    assert lxc_config.namespaces(s) == ["lxc.namespace.share.net = /proc/self/ns/net"]


RESOURCES = {  # linux.resources as shared/oci/resources.py writes them
    "memory": {"limit": 64 << 20, "reservation": 32 << 20, "swappiness": 7},
    "cpu": {"period": 50000, "realtimePeriod": 500000, "realtimeRuntime": 1000},
    "blockIO": {"weight": 300,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 200}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}]},
}


def test_more_cgroup_v1_keys() -> None:
    """Reservation, swappiness, real-time CPU (period before runtime) and blkio."""
    lines = lxc_config.cgroups({"linux": {"resources": RESOURCES}}, 1)
    for expected in [
        "lxc.cgroup.memory.soft_limit_in_bytes = 33554432",
        "lxc.cgroup.memory.swappiness = 7",
        "lxc.cgroup.cpu.cfs_period_us = 50000",
        "lxc.cgroup.blkio.weight = 300",
        "lxc.cgroup.blkio.weight_device = 8:0 200",
        "lxc.cgroup.blkio.throttle.read_bps_device = 8:0 1048576",
        "lxc.cgroup.blkio.throttle.write_iops_device = 8:0 100",
    ]:
        assert expected in lines
    assert lines.index("lxc.cgroup.cpu.rt_period_us = 500000") < lines.index(
        "lxc.cgroup.cpu.rt_runtime_us = 1000")


def test_more_cgroup_v2_keys() -> None:
    """v2's names: memory.low, io.weight (runc's scale), io.max; period-only cpu.max."""
    res = {k: dict(v) for k, v in RESOURCES.items()}
    del res["memory"]["swappiness"]
    res["cpu"] = {"period": 50000}
    lines = lxc_config.cgroups({"linux": {"resources": res}}, 2)
    for expected in [
        "lxc.cgroup2.memory.low = 33554432",
        "lxc.cgroup2.cpu.max = max 50000",
        "lxc.cgroup2.io.weight = default 2930",
        "lxc.cgroup2.io.weight = 8:0 1920",
        "lxc.cgroup2.io.max = 8:0 rbps=1048576",
        "lxc.cgroup2.io.max = 8:0 wiops=100",
    ]:
        assert expected in lines


def test_v2_unlimited_swap_and_quota() -> None:
    res = {"memory": {"limit": 64 << 20, "swap": -1}, "cpu": {"quota": -1, "period": 100000}}
    lines = lxc_config.cgroups({"linux": {"resources": res}}, 2)
    assert "lxc.cgroup2.memory.swap.max = max" in lines
    assert "lxc.cgroup2.cpu.max = max 100000" in lines


@pytest.mark.parametrize("res", [{"memory": {"swappiness": 7}},
                                 {"cpu": {"realtimeRuntime": 1000}}])
def test_what_v2_lacks_is_refused_not_dropped(res) -> None:
    with pytest.raises(lxc_config.UnsupportedSpec):
        lxc_config.cgroups({"linux": {"resources": res}}, 2)
