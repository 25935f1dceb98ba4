"""Unit tests with a fake cgroup tree: which file each new limit is written to, and how.

The writes are recorded instead of reaching a kernel (a temporary directory stands in
for /sys/fs/cgroup); tests/cgroupv2 and tests/behaviour/test_resources.py check real
cgroups.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stages.stage2_libcontainer.libcontainer import configs
from stages.stage2_libcontainer.libcontainer.cgroups import v1, v2
from stages.stage2_libcontainer.libcontainer.errors import SyscallError

LIMITS = configs.Resources(
    memory_reservation=32 << 20,
    block_io=configs.BlockIO(weight=500,
                             weight_device=[configs.BlockDeviceLimit(8, 0, 200)],
                             read_bps=[configs.BlockDeviceLimit(8, 0, 1 << 20)],
                             write_iops=[configs.BlockDeviceLimit(8, 16, 100)]))


def recorded(monkeypatch: pytest.MonkeyPatch, module: object) -> list[tuple[str, str]]:
    writes: list[tuple[str, str]] = []
    monkeypatch.setattr(module, "write", lambda path, value: writes.append(
        (Path(path).name, value)))
    return writes


def test_v2_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes = recorded(monkeypatch, v2)
    v2.V2Manager("/whalebones/x", str(tmp_path))._more_limits(LIMITS)
    assert writes == [("memory.low", str(32 << 20)), ("io.weight", "default 4950"),
                      ("io.weight", "8:0 1920"), ("io.max", "8:0 rbps=1048576"),
                      ("io.max", "8:16 wiops=100")]


@pytest.mark.parametrize("limits", [configs.Resources(memory_swappiness=10),
                                    configs.Resources(cpu_rt_runtime=1000)])
def test_v2_refuses_what_it_has_no_file_for(tmp_path: Path, limits) -> None:
    with pytest.raises(SyscallError, match="cgroup v2 has no"):
        v2.V2Manager("/whalebones/x", str(tmp_path))._more_limits(limits)


def test_v1_names(monkeypatch: pytest.MonkeyPatch) -> None:
    writes = recorded(monkeypatch, v1)
    manager = v1.V1Manager.__new__(v1.V1Manager)  # no mountinfo: the files are faked
    manager.path = "/whalebones/x"
    manager.mounts = {c: f"/fake/{c}" for c in ("memory", "cpu", "blkio")}
    limits = configs.Resources(memory_reservation=32 << 20, memory_swappiness=0,
                               cpu_rt_period=1000000, cpu_rt_runtime=950000,
                               block_io=LIMITS.block_io)
    manager._more_limits(limits)
    assert writes == [
        ("memory.soft_limit_in_bytes", str(32 << 20)), ("memory.swappiness", "0"),
        ("cpu.rt_period_us", "1000000"), ("cpu.rt_runtime_us", "950000"),
        ("blkio.weight", "500"), ("blkio.weight_device", "8:0 200"),
        ("blkio.throttle.read_bps_device", "8:0 1048576"),
        ("blkio.throttle.write_iops_device", "8:16 100")]
