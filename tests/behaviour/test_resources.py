"""Resource limits beyond -m/--cpus: written where the kernel reads them, or refused.

Each limit is read back from inside the container, in its own cgroup's files (the
container's cgroup is what it sees at /sys/fs/cgroup: v1 one directory per controller,
v2 one for all). A limit this host's kernel cannot apply is refused at create with a
400 naming the option; where dockerd only warns and discards it instead, the test
says so and checks the reference's warning rather than demanding our refusal of it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.oci import resources as host_resources

HOST = host_resources.probe()  # this host's cgroups: the daemons' under test too
V2 = HOST.version == 2


def read_inside(clients, args: list[str], v1_files: list[str], v2_files: list[str]) -> list[str]:
    """One `echo $(cat FILE)` per file, in a container run with `args`."""
    files = v2_files if V2 else v1_files
    script = "; ".join(f"echo $(cat /sys/fs/cgroup/{name})" for name in files)
    result = clients.docker("run", "--rm", *args, "busybox", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def a_disk() -> tuple[str, int, int]:
    """(/dev path, major, minor) of a whole disk of this host: what the I/O limits key by."""
    for name in sorted(os.listdir("/sys/block")):
        dev = Path("/dev") / name
        if dev.exists() and not name.startswith(("loop", "zram", "ram")):
            rdev = dev.stat().st_rdev
            return str(dev), os.major(rdev), os.minor(rdev)
    pytest.skip("no disk on this host to limit I/O on")


def refused(clients, *args: str) -> str:
    """`docker create ARGS busybox`, which must fail with the daemon's 400; its message."""
    result = clients.docker("create", *args, "busybox", "true")
    assert result.returncode != 0, result.stdout
    assert "Error response from daemon" in result.stderr, result.stderr
    return result.stderr


def test_memory_reservation_is_the_soft_limit(clients) -> None:
    out = read_inside(clients, ["-m", "64m", "--memory-reservation", "32m"],
                      ["memory/memory.soft_limit_in_bytes"], ["memory.low"])
    assert out == [str(32 << 20)]


@pytest.mark.skipif(V2, reason="cgroup v2 has no per-cgroup swappiness (refused: below)")
def test_memory_swappiness_is_written(clients) -> None:
    name = clients.name()
    result = clients.docker("run", "--name", name, "--memory-swappiness", "7", "busybox",
                            "cat", "/sys/fs/cgroup/memory/memory.swappiness")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7"
    assert clients.inspect(name)["HostConfig"]["MemorySwappiness"] == 7


@pytest.mark.ours_only(reason="dockerd warns and discards --memory-swappiness on cgroup v2")
@pytest.mark.skipif(not V2, reason="cgroup v1 has memory.swappiness (applied: above)")
def test_memory_swappiness_is_refused_on_v2(clients) -> None:
    assert "--memory-swappiness" in refused(clients, "--memory-swappiness", "7")


def test_unlimited_swap(clients) -> None:
    """--memory-swap -1: a memory limit and no swap limit at all."""
    name = clients.name()
    result = clients.docker("run", "--name", name, "-m", "32m", "--memory-swap", "-1",
                            "busybox", "true")
    assert result.returncode == 0, result.stderr
    hc = clients.inspect(name)["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"]) == (32 << 20, -1)


def test_a_memory_limit_gets_as_much_swap_again_by_default(clients) -> None:
    """-m alone: MemorySwap 2 x Memory (moby's adaptContainerSettings), in the record and
    in the cgroup (v1 memsw counts memory + swap; v2's swap.max counts swap alone)."""
    if not HOST.swap_limit():
        pytest.skip("no swap accounting on this kernel: dockerd makes it -1 (unlimited)")
    name = clients.name()
    files = ["memory.swap.max"] if V2 else ["memory/memory.memsw.limit_in_bytes"]
    script = "; ".join(f"echo $(cat /sys/fs/cgroup/{f})" for f in files)
    result = clients.docker("run", "--name", name, "-m", "32m", "busybox", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(32 << 20 if V2 else 64 << 20)]
    hc = clients.inspect(name)["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"]) == (32 << 20, 64 << 20)
    # A container made with no memory limit keeps MemorySwap 0
    other = clients.name()
    assert clients.docker("create", "--name", other, "busybox").returncode == 0
    assert clients.inspect(other)["HostConfig"]["MemorySwap"] == 0


def test_cpu_period_and_quota(clients) -> None:
    out = read_inside(clients, ["--cpu-period", "50000", "--cpu-quota", "25000"],
                      ["cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us"], ["cpu.max"])
    assert " ".join(out) == "25000 50000"


def test_cpu_period_alone(clients) -> None:
    out = read_inside(clients, ["--cpu-period", "40000"],
                      ["cpu/cpu.cfs_period_us"], ["cpu.max"])
    assert out == ["max 40000" if V2 else "40000"]


def test_device_rate_limits(clients) -> None:
    """--device-{read,write}-{bps,iops}: the disk is named by path on the command line,
    by its numbers in the cgroup (the daemon stat()s the path)."""
    dev, major, minor = a_disk()
    name = clients.name()
    args = ["--name", name, "--device-read-bps", f"{dev}:1mb",
            "--device-write-bps", f"{dev}:2mb", "--device-read-iops", f"{dev}:300",
            "--device-write-iops", f"{dev}:400"]
    prefix = "blkio/blkio.throttle"
    files = [f"{prefix}.read_bps_device", f"{prefix}.write_bps_device",
             f"{prefix}.read_iops_device", f"{prefix}.write_iops_device"]
    script = "; ".join(f"echo $(cat /sys/fs/cgroup/{f})" for f in (["io.max"] if V2 else files))
    result = clients.docker("run", *args, "busybox", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    if V2:
        assert result.stdout.split("\n")[0] == (
            f"{major}:{minor} rbps=1048576 wbps=2097152 riops=300 wiops=400")
    else:
        assert result.stdout.splitlines() == [
            f"{major}:{minor} {n}" for n in (1048576, 2097152, 300, 400)]
    hc = clients.inspect(name)["HostConfig"]
    assert hc["BlkioDeviceReadBps"] == [{"Path": dev, "Rate": 1048576}]
    assert hc["BlkioDeviceWriteIOps"] == [{"Path": dev, "Rate": 400}]


def test_device_rate_limit_of_a_missing_device_is_refused_at_create(clients, engine) -> None:
    if not engine.ours:
        pytest.skip("dockerd takes the create and fails at start (stat /dev/nonexistent)")
    assert "/dev/nonexistent" in refused(clients, "--device-read-bps", "/dev/nonexistent:1mb")


def test_blkio_weight(clients, engine) -> None:
    """Applied where the kernel has a weight file (BFQ on v1, iocost on v2); else ours
    refuse it, and dockerd says in a warning that it discards it."""
    if HOST.blkio_weight():
        out = read_inside(clients, ["--blkio-weight", "300"], ["blkio/blkio.weight"],
                          ["io.weight"])
        assert out == ["default 2930" if V2 else "300"]
    elif engine.ours:
        message = refused(clients, "--blkio-weight", "300")
        assert "--blkio-weight" in message and "Block I/O weight" in message
    else:
        result = clients.docker("create", "--blkio-weight", "300", "busybox", "true")
        assert "Block I/O weight" in result.stderr and "discarded" in result.stderr


def test_cpu_realtime_period(clients) -> None:
    """--cpu-rt-period is written where the kernel has real-time group scheduling;
    elsewhere refused with Docker's message."""
    if not HOST.cpu_realtime():
        assert "kernel does not support CPU real-time scheduler" in refused(
            clients, "--cpu-rt-period", "500000")
        return
    out = read_inside(clients, ["--cpu-rt-period", "500000"], ["cpu/cpu.rt_period_us"], [])
    assert out == ["500000"]


@pytest.mark.skipif(not HOST.cpu_realtime(), reason="no real-time group scheduling here "
                    "(refused: test_cpu_realtime_period)")
def test_cpu_realtime_runtime_needs_the_parents(clients) -> None:
    """A new cgroup has no real-time CPU time; its parent must give it some, and by
    default has none: Whalebones refuses at create, dockerd fails at start (the
    kernel's EINVAL), both naming cpu.rt_runtime_us."""
    result = clients.docker("run", "--rm", "--cpu-rt-runtime", "10000", "busybox", "true")
    assert result.returncode != 0 and "rt_runtime_us" in result.stderr, result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--cpu-period", "500"], "CPU cfs period can not be less than 1ms (i.e. 1000) "
                              "or larger than 1s (i.e. 1000000)"),
    (["--cpu-period", "2000000"], "CPU cfs period can not be less than 1ms"),
    (["--cpu-quota", "500"], "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
    (["--cpus", "1", "--cpu-period", "50000"],
     "Conflicting options: Nano CPUs and CPU Period cannot both be set"),
    (["--cpus", "1", "--cpu-quota", "50000"],
     "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    (["--memory-swap", "64m"],
     "You should always set the Memory limit when using Memoryswap limit, see usage"),
    (["--memory-reservation", "1m"], "Minimum memory reservation allowed is 6MB"),
    (["-m", "16m", "--memory-reservation", "32m"],
     "Minimum memory limit can not be less than memory reservation limit, see usage"),
    (["--cpu-rt-period", "1000", "--cpu-rt-runtime", "2000"],
     "cpu real-time runtime cannot be higher than cpu real-time period"),
])
def test_bad_limits_get_dockers_messages(clients, args, message) -> None:
    if "--cpu-rt-period" in args and not HOST.cpu_realtime():
        message = "kernel does not support CPU real-time scheduler"
    assert message in refused(clients, *args)


def create_via_api(clients, host_config: dict) -> tuple[int, str]:
    """POST /containers/create with this HostConfig: for values the docker CLI itself
    checks or drops before the daemon would see them."""
    reply = clients.api("POST", "/containers/create",
                        {"Image": "busybox", "Cmd": ["true"], "HostConfig": host_config})
    if reply.status == 201:
        clients.api("DELETE", f"/containers/{reply.json()['Id']}?force=1")
    return reply.status, reply.message if reply.status != 201 else ""


@pytest.mark.skipif(V2, reason="on v2 swappiness is refused whatever its value")
def test_swappiness_out_of_range(clients) -> None:
    status, message = create_via_api(clients, {"MemorySwappiness": 101})
    assert (status, message) == (400, "Invalid value: 101, valid memory swappiness range "
                                      "is 0-100")


def test_blkio_weight_out_of_range(clients, engine) -> None:
    if not engine.ours and not HOST.blkio_weight():
        pytest.skip("dockerd discards --blkio-weight (with a warning) before checking its "
                    "range on a kernel without blkio.weight")
    assert "Range of blkio weight is from 10 to 1000" in refused(clients, "--blkio-weight", "5")


@pytest.mark.parametrize(("field", "message"), [
    ("IOMaximumBandwidth", "invalid option: QoS maximum bandwidth configuration is not "
                           "supported on linux"),
    ("IOMaximumIOps", "invalid option: QoS maximum IOPs configuration is not supported on linux"),
])
def test_windows_io_limits_are_refused(clients, engine, field, message) -> None:
    status, said = create_via_api(clients, {field: 100})
    if engine.ours:  # current moby's runconfig validateQoS
        assert (status, said) == (400, message)
    else:  # dockerd 20.10 refuses it later, as a 500: "Invalid QoS settings: linux does
        # not support configuration of maximum bandwidth"
        assert status >= 400 and "Invalid QoS settings: linux does not support" in said, said


@pytest.mark.ours_only(reason="dockerd discards these with a warning (or, for KernelMemory "
                       "on API < 1.42 with a v1 kmem, applies it); Whalebones never "
                       "accepts a limit it does not apply. (The docker CLI itself drops "
                       "--kernel-memory and refuses --cpu-count/--cpu-percent for a Linux "
                       "daemon, so the fields are sent raw.)")
@pytest.mark.parametrize(("field", "option"), [
    ("KernelMemory", "--kernel-memory"),
    ("KernelMemoryTCP", "KernelMemoryTCP"),
    ("CpuPercent", "--cpu-percent"),
    ("CpuCount", "--cpu-count"),
])
def test_unsupported_limits_are_refused(clients, field, option) -> None:
    status, message = create_via_api(clients, {field: 50 << 20})
    assert status == 400 and option in message, message


def test_both_clis_send_the_limits_alike(cli, clients) -> None:
    """Our CLI's flags parse as docker's: the daemon records the same HostConfig."""
    dev, _, _ = a_disk()
    name = clients.name()
    args = ["--name", name, "-m", "64m", "--memory-reservation", "32m", "--memory-swap", "-1",
            "--cpu-period", "50000", "--cpu-quota", "25000",
            "--device-read-bps", f"{dev}:1mb", "--device-write-bps", f"{dev}:1k",
            "--device-read-iops", f"{dev}:300", "--device-write-iops", f"{dev}:400",
            *([] if V2 else ["--memory-swappiness", "7"])]
    result = cli("create", *args, "busybox", "true")
    assert result.returncode == 0, result.stderr
    hc = clients.inspect(name)["HostConfig"]
    assert (hc["MemoryReservation"], hc["MemorySwap"], hc["CpuPeriod"], hc["CpuQuota"]) == (
        32 << 20, -1, 50000, 25000)
    assert hc["BlkioDeviceReadBps"] == [{"Path": dev, "Rate": 1 << 20}]
    assert hc["BlkioDeviceWriteBps"] == [{"Path": dev, "Rate": 1024}]
    assert hc["BlkioDeviceReadIOps"] == [{"Path": dev, "Rate": 300}]
    assert hc["BlkioDeviceWriteIOps"] == [{"Path": dev, "Rate": 400}]
    if not V2:
        assert hc["MemorySwappiness"] == 7


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--device-read-bps", "/dev/sda", "bad format: /dev/sda"),
    ("--device-read-bps", "sda:1mb", "bad format for device path: sda:1mb"),
    ("--device-read-bps", "/dev/sda:fast", "invalid rate for device: /dev/sda:fast"),
    ("--device-write-iops", "/dev/sda:1k", "invalid rate for device: /dev/sda:1k"),
])
def test_both_clis_refuse_a_bad_device_limit(cli, flag, value, message) -> None:
    result = cli("create", flag, value, "busybox", "true")
    assert result.returncode == 125 and message in result.stderr, result.stderr
