"""Devices in the spec (shared/oci/devices.py) and in stage 1's LXC config.

Unit tests: the spec side reads this host's real /dev nodes (/dev/null, /dev/net);
the LXC side is pure, with a fake node finder (labelled where used).
"""

from __future__ import annotations

import pytest

from shared.oci import devices
from shared.oci.defaults import default_spec
from stages.stage1_lxc import lxc_config


def spec_with(host_config: dict) -> dict:
    spec = default_spec()
    devices.apply(spec, host_config)
    return spec


def test_device_mapping_reads_the_host_node_and_allows_it() -> None:
    spec = spec_with({"Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull",
                                   "CgroupPermissions": "rw"}]})
    assert spec["linux"]["devices"] == [{"path": "/dev/mynull", "type": "c", "major": 1,
                                         "minor": 3, "fileMode": 0o666, "uid": 0, "gid": 0}]
    assert spec["linux"]["resources"]["devices"][-1] == {
        "allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}


def test_a_directory_of_devices_is_walked() -> None:
    spec = spec_with({"Devices": [{"PathOnHost": "/dev/net", "PathInContainer": "/dev/x",
                                   "CgroupPermissions": "rwm"}]})
    assert [d["path"] for d in spec["linux"]["devices"]] == ["/dev/x/tun"]


def test_cgroup_rules_with_wildcards() -> None:
    spec = spec_with({"DeviceCgroupRules": ["b *:* m", "c 1:3 rwm"]})
    assert spec["linux"]["resources"]["devices"][-2:] == [
        {"allow": True, "type": "b", "major": -1, "minor": -1, "access": "m"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]


@pytest.mark.parametrize("rule", ["c 1:3", "x 1:3 r", "c 1:3 rwm\n", "a", "c 1:3 rwx"])
def test_malformed_rules_are_refused_with_mobys_message(rule: str) -> None:
    with pytest.raises(devices.DeviceError) as caught:
        spec_with({"DeviceCgroupRules": [rule]})
    assert caught.value.message == f"invalid device cgroup rule format: '{rule}'"
    assert caught.value.status == 500  # a start-time system error, as moby's


def test_missing_and_non_device_paths() -> None:
    with pytest.raises(devices.DeviceError, match='custom device "/dev/nope": no such file'):
        spec_with({"Devices": [{"PathOnHost": "/dev/nope"}]})
    with pytest.raises(devices.DeviceError, match="not a device node"):
        spec_with({"Devices": [{"PathOnHost": "/etc/hostname"}]})


def test_privileged_gets_every_host_node_and_allow_all() -> None:
    spec = spec_with({"Privileged": True, "DeviceCgroupRules": ["not even checked"]})
    paths = {d["path"] for d in spec["linux"]["devices"]}
    assert "/dev/null" in paths and "/dev/console" not in paths
    assert not any(p.startswith("/dev/pts/") for p in paths)
    assert spec["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]


# --- stage 1: pure, with a fake finder -----------------------------------------------


def fake_find(kind: str, major: int, minor: int) -> str | None:
    return {("c", 1, 3): "/dev/null", ("b", 7, 0): "/dev/loop0"}.get((kind, major, minor))


def test_lxc_binds_the_host_node_onto_the_container_path() -> None:
    spec = {"linux": {"devices": [
        {"path": "/dev/my null", "type": "c", "major": 1, "minor": 3},
        {"path": "/dev/disk", "type": "b", "major": 7, "minor": 0},
        {"path": "/dev/ptmx", "type": "c", "major": 5, "minor": 2}]}}
    assert lxc_config.device_nodes(spec, fake_find) == [
        "lxc.mount.entry = /dev/null dev/my\\040null none bind,create=file 0 0",
        "lxc.mount.entry = /dev/loop0 dev/disk none bind,create=file 0 0"]


def test_lxc_refuses_a_node_the_host_lacks() -> None:
    spec = {"linux": {"devices": [{"path": "/dev/x", "type": "c", "major": 99, "minor": 9}]}}
    with pytest.raises(lxc_config.UnsupportedSpec, match="c 99:9"):
        lxc_config.device_nodes(spec, fake_find)


@pytest.mark.parametrize(("version", "prefix"), [(1, "lxc.cgroup"), (2, "lxc.cgroup2")])
def test_lxc_device_rules_in_the_kernels_syntax(version: int, prefix: str) -> None:
    spec = {"linux": {"resources": {"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "b", "major": -1, "minor": -1, "access": "m"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}]}}}
    assert lxc_config.cgroups(spec, version) == [
        f"{prefix}.devices.deny = a",
        f"{prefix}.devices.allow = b *:* m",
        f"{prefix}.devices.allow = c 1:3 rw"]


def test_real_host_node_lookup() -> None:  # reads this host's sysfs
    assert lxc_config.host_node("c", 1, 3) == "/dev/null"
    assert lxc_config.host_node("c", 1, 250) is None
