"""Resource limits are enforced by the kernel, not just recorded."""

from __future__ import annotations

CPU_QUOTA = (
    "if [ -f /sys/fs/cgroup/cpu.max ]; then echo v2 $(cat /sys/fs/cgroup/cpu.max);"
    " else echo v1 $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us);"
    " fi"
)


def test_memory_limit_kills_a_hog(cli, clients) -> None:
    name = clients.name()
    # tail keeps a "line" in memory until it sees a newline; /dev/zero has none
    result = cli("run", "--name", name, "-m", "32m", "busybox", "tail", "/dev/zero", timeout=60)
    assert result.returncode == 137
    state = clients.inspect(name)["State"]
    assert state["OOMKilled"] is True
    assert state["ExitCode"] == 137


def test_memory_limit_is_recorded(clients) -> None:
    name = clients.name()
    assert clients.docker("create", "--name", name, "-m", "32m", "busybox").returncode == 0
    assert clients.inspect(name)["HostConfig"]["Memory"] == 32 * 1024 * 1024


def test_pids_limit_stops_a_fork_bomb(cli) -> None:
    result = cli("run", "--rm", "--pids-limit", "10", "busybox", "sh", "-c",
                 "i=0; while [ $i -lt 20 ]; do sleep 2 & i=$((i+1)); done; echo all-forked")
    assert result.returncode != 0
    assert "all-forked" not in result.stdout
    assert "can't fork" in result.stderr


def test_cpus_sets_the_cfs_quota(cli) -> None:
    result = cli("run", "--rm", "--cpus", "0.5", "busybox", "sh", "-c", CPU_QUOTA)
    assert result.returncode == 0, result.stderr
    version, quota, period = result.stdout.split()
    print(f"cgroup {version}: quota {quota} period {period}")  # which hierarchy was checked
    assert int(quota) * 2 == int(period)
