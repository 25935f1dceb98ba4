"""Unit tests: HostConfig limits -> linux.resources, on fake cgroup trees.

The host's cgroup files are faked in a temporary directory (a CgroupHost rooted
there), so each rule is checked for a kernel that has, or lacks, a given file. The
behaviour suite (tests/behaviour/test_resources.py) checks the same end to end.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.oci import resources
from shared.oci.resources import CgroupHost, ResourceError

V1_FILES = ["memory/memory.soft_limit_in_bytes", "memory/memory.swappiness",
            "memory/memory.memsw.limit_in_bytes", "blkio/blkio.weight",
            "blkio/blkio.throttle.read_bps_device", "cpu/cpu.rt_runtime_us"]


def v1_host(tmp_path: Path, files: list[str] = V1_FILES) -> CgroupHost:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    return CgroupHost(1, str(tmp_path))


def v2_host(tmp_path: Path, controllers: str = "cpu memory io pids",
            iocost: bool = True) -> CgroupHost:
    (tmp_path / "cgroup.controllers").write_text(controllers)
    if iocost:
        (tmp_path / "io.cost.qos").write_text("")
    return CgroupHost(2, str(tmp_path))


def test_probe_tells_the_versions_apart(tmp_path: Path) -> None:
    assert resources.probe(str(tmp_path)).version == 1
    (tmp_path / "cgroup.controllers").write_text("memory")
    assert resources.probe(str(tmp_path)).version == 2


def test_memory_fields(tmp_path: Path) -> None:
    res = resources.to_spec({"Memory": 64 << 20, "MemorySwap": 128 << 20,
                             "MemoryReservation": 32 << 20, "MemorySwappiness": 0},
                            v1_host(tmp_path))
    assert res["memory"] == {"limit": 64 << 20, "swap": 128 << 20,
                             "reservation": 32 << 20, "swappiness": 0}


@pytest.mark.parametrize("swappiness", [None, -1])
def test_swappiness_not_given(tmp_path: Path, swappiness) -> None:
    res = resources.to_spec({"Memory": 64 << 20, "MemorySwappiness": swappiness},
                            v2_host(tmp_path))
    assert res["memory"] == {"limit": 64 << 20}


def test_unlimited_swap_only_where_there_is_a_swap_limit(tmp_path: Path) -> None:
    hc = {"Memory": 64 << 20, "MemorySwap": -1}
    assert resources.to_spec(hc, v1_host(tmp_path))["memory"]["swap"] == -1
    bare = v1_host(tmp_path / "bare", ["memory/memory.limit_in_bytes"])
    assert "swap" not in resources.to_spec(hc, bare)["memory"]


def test_cpu_fields(tmp_path: Path) -> None:
    host = v1_host(tmp_path, [*V1_FILES, "cpu/whalebones/cpu.rt_runtime_us"])
    (tmp_path / "cpu/whalebones/cpu.rt_runtime_us").write_text("950000\n")
    res = resources.to_spec({"CpuPeriod": 50000, "CpuQuota": 25000,
                             "CpuRealtimePeriod": 1000000, "CpuRealtimeRuntime": 950000},
                            host)
    assert res["cpu"] == {"period": 50000, "quota": 25000, "realtimePeriod": 1000000,
                          "realtimeRuntime": 950000}


def test_realtime_runtime_needs_the_parents(tmp_path: Path) -> None:
    """A new cgroup gets no real-time time; its parent must have some to give."""
    with pytest.raises(ResourceError, match="parent cgroup /whalebones has no real-time"):
        resources.to_spec({"CpuRealtimeRuntime": 1000}, v1_host(tmp_path))
    resources.to_spec({"CpuRealtimePeriod": 500000}, v1_host(tmp_path))  # period alone: fine


def test_block_io_fields(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(resources, "block_device", lambda path, option: (8, 0))
    hc = {"BlkioWeight": 300, "BlkioWeightDevice": [{"Path": "/dev/sda", "Weight": 200}],
          "BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": 1 << 20}],
          "BlkioDeviceWriteIOps": [{"Path": "/dev/sda", "Rate": 100}]}
    assert resources.to_spec(hc, v2_host(tmp_path))["blockIO"] == {
        "weight": 300,
        "weightDevice": [{"major": 8, "minor": 0, "weight": 200}],
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1 << 20}],
        "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}],
    }


@pytest.mark.parametrize(("host_config", "message"), [
    ({"CpuPeriod": 999}, "CPU cfs period can not be less than 1ms"),
    ({"CpuPeriod": 1_000_001}, "or larger than 1s"),
    ({"CpuQuota": 999}, "CPU cfs quota can not be less than 1ms"),
    ({"NanoCpus": 10**9, "CpuPeriod": 50000}, "Nano CPUs and CPU Period cannot both be set"),
    ({"NanoCpus": 10**9, "CpuQuota": 50000}, "Nano CPUs and CPU Quota cannot both be set"),
    ({"MemorySwap": 64 << 20}, "You should always set the Memory limit when using Memoryswap"),
    ({"Memory": 64 << 20, "MemorySwap": 32 << 20}, "Minimum memoryswap limit should be larger"),
    ({"MemoryReservation": 1 << 20}, "Minimum memory reservation allowed is 6MB"),
    ({"Memory": 16 << 20, "MemoryReservation": 32 << 20},
     "Minimum memory limit can not be less than memory reservation limit"),
    ({"MemorySwappiness": 101}, r"Invalid value: 101, valid memory swappiness range is 0-100"),
    ({"BlkioWeight": 5}, "Range of blkio weight is from 10 to 1000"),
    ({"CpuRealtimePeriod": 1000, "CpuRealtimeRuntime": 2000},
     "cpu real-time runtime cannot be higher than cpu real-time period"),
    ({"CpuShares": -2}, r"invalid CPU shares \(-2\): value must be a positive integer"),
    ({"KernelMemory": 1 << 20}, "--kernel-memory is not supported"),
    ({"KernelMemoryTCP": 1 << 20}, "KernelMemoryTCP is not supported"),
    ({"CpuCount": 2}, "--cpu-count is not supported"),
    ({"CpuPercent": 50}, "--cpu-percent is not supported"),
    ({"IOMaximumBandwidth": 1}, "QoS maximum bandwidth configuration is not supported on linux"),
    ({"IOMaximumIOps": 1}, "QoS maximum IOPs configuration is not supported on linux"),
])
def test_dockers_messages(tmp_path: Path, host_config, message) -> None:
    with pytest.raises(ResourceError, match=message):
        resources.to_spec(host_config, v1_host(tmp_path))


@pytest.mark.parametrize(("host_config", "option"), [
    ({"Memory": 64 << 20, "MemorySwap": 128 << 20}, "--memory-swap"),
    ({"MemorySwappiness": 10}, "--memory-swappiness"),
    ({"MemoryReservation": 32 << 20}, "--memory-reservation"),
    ({"BlkioWeight": 300}, "--blkio-weight"),
    ({"BlkioWeightDevice": [{"Path": "/dev/sda", "Weight": 300}]}, "--blkio-weight-device"),
    ({"BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": 1}]}, "--device-read-bps"),
    ({"CpuRealtimeRuntime": 1000}, "kernel does not support CPU real-time scheduler"),
])
def test_a_kernel_without_the_file_refuses_the_option(tmp_path: Path, host_config,
                                                      option) -> None:
    bare = v1_host(tmp_path, ["memory/memory.limit_in_bytes"])
    with pytest.raises(ResourceError, match=option):
        resources.to_spec(host_config, bare)


@pytest.mark.parametrize(("host_config", "option"), [
    ({"MemorySwappiness": 10}, "cgroup v2 has no per-cgroup swappiness"),
    ({"CpuRealtimePeriod": 1000}, "kernel does not support CPU real-time scheduler"),
    ({"BlkioWeight": 300}, "--blkio-weight"),
])
def test_what_v2_lacks_is_refused(tmp_path: Path, host_config, option) -> None:
    with pytest.raises(ResourceError, match=option):
        resources.to_spec(host_config, v2_host(tmp_path, iocost=False))


def test_block_device_must_be_a_whole_disk(tmp_path: Path) -> None:
    with pytest.raises(ResourceError, match="No such file"):
        resources.block_device(str(tmp_path / "none"), "--device-read-bps")
    with pytest.raises(ResourceError, match="is not a block device"):
        resources.block_device("/dev/null", "--device-read-bps")
    disks = [d for d in os.listdir("/sys/block") if os.path.exists(f"/dev/{d}")]
    if disks:  # this machine's first disk: its numbers, as stat() gives them
        rdev = os.stat(f"/dev/{disks[0]}").st_rdev
        assert resources.block_device(f"/dev/{disks[0]}", "x") == (os.major(rdev),
                                                                   os.minor(rdev))


@pytest.mark.parametrize(("given", "swap_files", "expected"), [
    ({"Memory": 64 << 20}, V1_FILES, 128 << 20),  # moby's default: 2 x Memory
    ({"Memory": 64 << 20, "MemorySwap": 96 << 20}, V1_FILES, 96 << 20),  # given: kept
    ({"Memory": 64 << 20, "MemorySwap": -1}, V1_FILES, -1),
    ({}, V1_FILES, None),  # no memory limit: nothing to default
    ({"Memory": 64 << 20}, ["memory/memory.swappiness"], -1),  # no swap accounting
])
def test_default_memory_swap(tmp_path: Path, given: dict, swap_files: list[str],
                             expected: int | None) -> None:
    hc = dict(given)
    resources.default_memory_swap(hc, v1_host(tmp_path, swap_files))
    assert hc.get("MemorySwap") == expected
