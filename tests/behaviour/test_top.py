"""`docker top`: a container's processes, from the host's ps, by the host's pids."""

from __future__ import annotations

from tests.behaviour.clients import wait_until


def test_top_lists_the_containers_processes_and_only_them(cli, clients) -> None:
    name = clients.name()
    result = clients.docker("run", "-d", "--name", name, "busybox", "sh", "-c",
                            "sleep 1001 & sleep 1002 & wait")
    assert result.returncode == 0, result.stderr

    def listed() -> list[str]:
        out = cli("top", name)
        assert out.returncode == 0, out.stderr
        return out.stdout.splitlines()

    lines = wait_until(lambda: (ls := listed()) and len(ls) == 4 and ls, 10, "3 processes")
    assert lines[0].split()[:3] == ["UID", "PID", "PPID"]  # ps -ef's header
    commands = sorted(line.split(None, 7)[-1] for line in lines[1:])
    assert commands == ["sh -c sleep 1001 & sleep 1002 & wait", "sleep 1001", "sleep 1002"]
    host_pid = clients.inspect(name)["State"]["Pid"]
    assert str(host_pid) in [line.split()[1] for line in lines[1:]]  # the host's pids


def test_top_passes_ps_options_and_refuses_a_stopped_container(clients) -> None:
    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "busybox", "sleep", "60").returncode == 0
    out = clients.docker("top", name, "-o", "pid,comm")
    assert out.returncode == 0, out.stderr
    header, *rows = out.stdout.splitlines()
    assert header.split() == ["PID", "COMMAND"] and [r.split()[1] for r in rows] == ["sleep"]
    listing = clients.api("GET", f"/containers/{name}/top?ps_args=-o+pid,comm").json()
    assert listing["Titles"] == ["PID", "COMMAND"] and listing["Processes"][0][1] == "sleep"
    cid = clients.inspect(name)["Id"]
    assert clients.docker("kill", name).returncode == 0
    result = clients.docker("top", name)
    assert result.returncode != 0 and f"Container {cid} is not running" in result.stderr
