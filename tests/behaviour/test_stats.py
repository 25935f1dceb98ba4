"""`docker stats`: readings of a running container's cgroup, in dockerd's JSON.

A busy loop shows CPU well above 10% (the CLI's percentage comes from two readings a
second apart: stream=false answers the second, with the first as precpu_stats), memory
in use and the limit given with -m; one-shot answers at once, without precpu.
"""

from __future__ import annotations

import json


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


def busy(clients) -> str:  # type: ignore[no-untyped-def]
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "-m", "64m", "--pids-limit", "50",
                      "busybox", "sh", "-c", "while :; do :; done"))
    return name


def test_docker_stats_no_stream_shows_a_busy_loop(clients) -> None:
    name = busy(clients)
    out = ok(clients.docker("stats", "--no-stream", "--format",
                            "{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}", name)).strip()
    cpu, mem, pids = out.split("|")
    assert float(cpu.rstrip("%")) > 10, out
    used, limit = (p.strip() for p in mem.split("/"))
    assert limit == "64MiB", out
    assert not used.startswith("0B"), out
    assert int(pids) >= 1, out


def test_stats_json_is_dockerds(clients) -> None:
    name = busy(clients)
    reply = clients.api("GET", f"/containers/{name}/stats?stream=false", timeout=30)
    assert reply.status == 200
    s = reply.json()
    assert s["name"] == f"/{name}" and s["id"] == clients.inspect(name)["Id"]
    cpu, pre = s["cpu_stats"], s["precpu_stats"]
    assert cpu["cpu_usage"]["total_usage"] > pre["cpu_usage"]["total_usage"] > 0
    assert cpu["system_cpu_usage"] > pre["system_cpu_usage"] > 0
    assert cpu["online_cpus"] >= 1
    assert s["memory_stats"]["limit"] == 64 * 1024 * 1024
    assert s["memory_stats"]["usage"] > 0 and s["memory_stats"]["stats"]
    assert s["pids_stats"] == {"current": 2, "limit": 50} or s["pids_stats"]["limit"] == 50
    assert s["preread"] != "0001-01-01T00:00:00Z"
    # one-shot: the first reading at once, nothing before it
    one = clients.api("GET", f"/containers/{name}/stats?stream=false&one-shot=true").json()
    assert one["precpu_stats"]["cpu_usage"]["total_usage"] == 0
    assert one["cpu_stats"]["cpu_usage"]["total_usage"] > 0
    # docker-py's stats, streamed: decoded readings one after the other
    stream = clients.py.containers.get(name).stats(decode=True)
    first, second = next(stream), next(stream)
    assert second["precpu_stats"]["cpu_usage"]["total_usage"] == \
        first["cpu_stats"]["cpu_usage"]["total_usage"]
    stream.close()


def test_stats_of_a_network_interface(clients) -> None:
    name = clients.name()
    network = f"wbstat-{name[-6:]}"
    ok(clients.docker("network", "create", network))
    try:
        ok(clients.docker("run", "-d", "--name", name, "--network", network,
                          "busybox", "sleep", "60"))
        s = clients.api("GET", f"/containers/{name}/stats?stream=false").json()
        assert set(s["networks"]) == {"eth0"}, s.get("networks")
        assert set(s["networks"]["eth0"]) >= {"rx_bytes", "rx_packets", "tx_bytes",
                                              "tx_packets", "rx_errors", "tx_dropped"}
    finally:
        clients.cleanup()
        clients.names.clear()
        clients.docker("network", "rm", network)


def test_stats_of_a_stopped_container_are_zeros(clients) -> None:
    name = clients.name()
    ok(clients.docker("create", "--name", name, "busybox", "true"))
    s = json.loads(clients.api("GET", f"/containers/{name}/stats?stream=false").body)
    assert s["name"] == f"/{name}"
    assert s["cpu_stats"]["cpu_usage"]["total_usage"] == 0
    assert s["memory_stats"] == {}
