"""`docker update`: new limits written into a running container's cgroup, seen from
inside it (its cgroup is what it sees at /sys/fs/cgroup), kept in the record
(`docker inspect`), and given to a stopped container at its next start; refused with
moby's messages where moby refuses.
"""

from __future__ import annotations

from shared.oci import resources as host_resources

HOST = host_resources.probe()
V2 = HOST.version == 2
MiB = 1024 * 1024


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


def limits(clients, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    files = (["memory.max", "memory.swap.max", "pids.max", "cpu.weight", "cpu.max"] if V2 else
             ["memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes",
              "pids/pids.max", "cpu/cpu.shares", "cpu/cpu.cfs_quota_us"])
    script = "; ".join(f"echo $(cat /sys/fs/cgroup/{f})" for f in files)
    return ok(clients.docker("exec", name, "sh", "-c", script)).splitlines()


def expected(memory: int, swap: int, pids: int, shares: int, quota: int) -> list[str]:
    if V2:
        weight = 1 + ((shares - 2) * 9999) // 262142
        return [str(memory), str(swap - memory), str(pids), str(weight), f"{quota} 100000"]
    return [str(memory), str(swap), str(pids), str(shares), str(quota)]


def test_update_a_running_container(clients) -> None:
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "-m", "64m", "--memory-swap", "128m",
                      "--pids-limit", "50", "--cpu-shares", "512", "--cpus", "0.25",
                      "busybox", "sleep", "60"))
    assert limits(clients, name) == expected(64 * MiB, 128 * MiB, 50, 512, 25000)
    ok(clients.docker("update", "-m", "96m", "--memory-swap", "192m", "--pids-limit", "80",
                      "--cpu-shares", "1024", "--cpus", "0.5", name))
    assert limits(clients, name) == expected(96 * MiB, 192 * MiB, 80, 1024, 50000)
    hc = clients.inspect(name)["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"], hc["PidsLimit"], hc["CpuShares"],
            hc["NanoCpus"]) == (96 * MiB, 192 * MiB, 80, 1024, 500_000_000)
    # docker-py's update
    clients.py.containers.get(name).update(mem_limit="80m", memswap_limit="160m")
    assert limits(clients, name)[:2] == expected(80 * MiB, 160 * MiB, 80, 1024, 50000)[:2]


def test_update_cpuset(clients) -> None:
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "busybox", "sleep", "60"))
    ok(clients.docker("update", "--cpuset-cpus", "0", name))
    path = "cpuset.cpus" if V2 else "cpuset/cpuset.cpus"
    assert ok(clients.docker("exec", name, "cat", f"/sys/fs/cgroup/{path}")).strip() == "0"
    assert clients.inspect(name)["HostConfig"]["CpusetCpus"] == "0"


def test_update_a_stopped_container_applies_at_its_start(clients) -> None:
    name = clients.name()
    ok(clients.docker("create", "--name", name, "-m", "64m", "--memory-swap", "128m",
                      "--pids-limit", "50", "--cpu-shares", "512", "--cpus", "0.25",
                      "busybox", "sleep", "60"))
    ok(clients.docker("update", "--pids-limit", "70", "--cpu-shares", "256", name))
    ok(clients.docker("start", name))
    assert limits(clients, name) == expected(64 * MiB, 128 * MiB, 70, 256, 25000)


def test_update_refusals(clients) -> None:
    name = clients.name()
    cid = ok(clients.docker("run", "-d", "--name", name, "-m", "64m", "--memory-swap", "128m",
                            "busybox", "sleep", "60")).strip()
    small = clients.api("POST", f"/containers/{name}/update", {"Memory": 1024})
    assert small.status == 400 and small.message == "Minimum memory limit allowed is 6MB"
    over = clients.api("POST", f"/containers/{name}/update", {"Memory": 200 * MiB})
    assert over.status == 409  # moby's conflictingUpdateOptions: errdefs.Conflict
    assert over.message == (f"Cannot update container {cid}: Memory limit should be smaller "
                            "than already set memoryswap limit, update the memoryswap at "
                            "the same time")
    nano = clients.api("POST", f"/containers/{name}/update",
                       {"NanoCpus": 500_000_000, "CpuPeriod": 50000})
    assert nano.status in (400, 409)  # (the request's own conflict: 400 on Docker 23+)
    assert clients.api("POST", "/containers/wb-no-such-x/update", {"Memory": 64 * MiB}
                       ).status == 404
    assert clients.inspect(name)["HostConfig"]["Memory"] == 64 * MiB  # nothing changed
    assert limits(clients, name)[0] == expected(64 * MiB, 128 * MiB, 0, 2, 0)[0]


def test_update_restart_policy_applies_to_the_next_exit(clients) -> None:
    """`docker update --restart on-failure:1` on a running container without a policy:
    its next failing exit is restarted once, and inspect shows the new policy."""
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "busybox", "sh", "-c",
                      "sleep 1; exit 3"))
    ok(clients.docker("update", "--restart", "on-failure:1", name))
    policy = clients.inspect(name)["HostConfig"]["RestartPolicy"]
    assert (policy["Name"], policy["MaximumRetryCount"]) == ("on-failure", 1)
    clients.wait_until(lambda: (s := clients.inspect(name))["RestartCount"] == 1
                       and not s["State"]["Running"] and not s["State"]["Restarting"],
                       timeout=30, what="one restart, then exited")
    assert clients.inspect(name)["State"]["ExitCode"] == 3


def test_update_restart_of_an_auto_remove_container_is_refused(clients) -> None:
    name = clients.name()
    ok(clients.docker("run", "-d", "--rm", "--name", name, "busybox", "sleep", "30"))
    result = clients.docker("update", "--restart", "always", name)
    assert result.returncode != 0
    assert "Restart policy cannot be updated because AutoRemove is enabled" in result.stderr


def test_both_clis_update(cli, clients) -> None:  # type: ignore[no-untyped-def]
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "--pids-limit", "50", "busybox",
                      "sleep", "60"))
    assert cli("update", "--pids-limit", "60", "--cpu-shares", "300", name).stdout == f"{name}\n"
    hc = clients.inspect(name)["HostConfig"]
    assert (hc["PidsLimit"], hc["CpuShares"]) == (60, 300)
    path = "pids.max" if V2 else "pids/pids.max"
    assert ok(clients.docker("exec", name, "cat", f"/sys/fs/cgroup/{path}")).strip() == "60"


def test_update_blkio_weight(clients, engine) -> None:  # type: ignore[no-untyped-def]
    """Written where the kernel has a weight file (BFQ on v1, iocost on v2); else ours
    refuse it by name, and dockerd says in a warning that it discards it."""
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "busybox", "sleep", "60"))
    result = clients.docker("update", "--blkio-weight", "300", name)
    if HOST.blkio_weight():
        assert result.returncode == 0, result.stderr
        path = "io.weight" if V2 else "blkio/blkio.weight"
        inside = ok(clients.docker("exec", name, "cat", f"/sys/fs/cgroup/{path}")).strip()
        assert inside == ("default 2930" if V2 else "300")
    elif engine.ours:
        assert result.returncode != 0 and "--blkio-weight" in result.stderr
        assert clients.inspect(name)["HostConfig"]["BlkioWeight"] == 0
    else:  # (the docker CLI prints update's warnings on stdout)
        assert "Block I/O weight" in result.stdout and "discarded" in result.stdout
