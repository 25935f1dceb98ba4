"""--pid, --ipc, --uts, --cgroupns, --shm-size, --tmpfs, --init, --cpuset-*, and
--cgroup-parent: each seen from inside the container, and refused with dockerd's words."""

from __future__ import annotations

import os
import socket
import time
import uuid

import pytest

from tests.behaviour.clients import wait_until


def _run(cli, *args: str) -> str:
    result = cli("run", "--rm", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_pid_host_sees_the_hosts_processes(cli) -> None:
    # pid 1 of the host's namespace is the machine's init, never `ps` itself
    out = _run(cli, "--pid", "host", "busybox", "sh", "-c", "cat /proc/1/comm; echo $$")
    first, own = out.split()
    assert int(own) != 1 and int(own) > 1
    assert first != "sh"
    own_ns = _run(cli, "busybox", "sh", "-c", "echo $$").strip()
    assert own_ns == "1"  # without it: a namespace of its own


def test_pid_container_joins_the_others(clients) -> None:
    donor = clients.name()
    assert clients.docker("run", "-d", "--name", donor, "busybox", "sleep", "1000").returncode == 0
    out = clients.docker("run", "--rm", "--pid", f"container:{donor}", "busybox",
                         "ps", "-o", "pid,comm")
    assert out.returncode == 0, out.stderr
    assert any(line.split() == ["1", "sleep"] for line in out.stdout.splitlines()), out.stdout


def test_pid_container_must_be_running(clients) -> None:
    donor = clients.name()
    assert clients.docker("create", "--name", donor, "busybox", "true").returncode == 0
    out = clients.docker("run", "--rm", "--pid", f"container:{donor}", "busybox", "true")
    assert out.returncode != 0
    assert "is not running" in out.stderr


def test_ipc_container_shares_shm_and_needs_shareable(clients) -> None:
    donor, private = clients.name(), clients.name()
    assert clients.docker("run", "-d", "--name", donor, "--ipc", "shareable", "busybox", "sh",
                          "-c", "echo hi > /dev/shm/note; sleep 1000").returncode == 0
    wait_until(lambda: clients.docker("exec", donor, "cat", "/dev/shm/note").stdout == "hi\n")
    out = clients.docker("run", "--rm", "--ipc", f"container:{donor}", "busybox", "sh", "-c",
                         "cat /dev/shm/note; readlink /proc/self/ns/ipc")
    assert out.returncode == 0, out.stderr
    note, ns = out.stdout.split()
    assert note == "hi"
    assert ns == clients.docker("exec", donor, "readlink", "/proc/self/ns/ipc").stdout.strip()

    assert clients.docker("run", "-d", "--name", private, "busybox", "sleep",
                          "1000").returncode == 0
    out = clients.docker("run", "--rm", "--ipc", f"container:{private}", "busybox", "true")
    assert out.returncode != 0
    assert "non-shareable IPC (hint: use IpcMode:shareable for the donor container)" \
        in out.stderr


def test_ipc_modes(cli) -> None:
    host_ns = os.readlink("/proc/self/ns/ipc")
    assert _run(cli, "--ipc", "host", "busybox", "readlink", "/proc/self/ns/ipc").strip() \
        == host_ns
    assert _run(cli, "busybox", "readlink", "/proc/self/ns/ipc").strip() != host_ns
    assert "/dev/shm" not in _run(cli, "--ipc", "none", "busybox", "cat", "/proc/mounts")
    assert "/dev/shm" in _run(cli, "--ipc", "private", "busybox", "cat", "/proc/mounts")


def test_uts_host_has_the_hosts_name(cli) -> None:
    assert _run(cli, "--uts", "host", "busybox", "hostname").strip() == socket.gethostname()
    assert _run(cli, "busybox", "hostname").strip() != socket.gethostname()


def test_uts_host_conflicts_with_a_hostname(clients) -> None:
    reply = clients.api("POST", "/containers/create",
                        {"Image": "busybox", "Hostname": "x",
                         "HostConfig": {"UTSMode": "host"}})
    assert reply.status == 400
    assert reply.message == "conflicting options: hostname and the UTS mode"


def test_cgroupns_modes(cli) -> None:
    private = _run(cli, "--cgroupns", "private", "busybox", "cat", "/proc/self/cgroup")
    assert all(line.endswith(":/") for line in private.split()), private
    host = _run(cli, "--cgroupns", "host", "busybox", "cat", "/proc/self/cgroup")
    assert any(not line.endswith(":/") for line in host.split()), host


def test_bad_modes_are_refused(clients) -> None:
    reply = clients.api("POST", "/containers/create",
                        {"Image": "busybox", "HostConfig": {"CgroupnsMode": "foo"}})
    assert (reply.status, reply.message) == (400, "invalid cgroup namespace mode: foo")
    # Refused by the CLI ("--pid: invalid PID mode") or, where this docker CLI lets
    # it through, by the daemon ("invalid IPC mode: bogus"; dockerd 20.10 at start).
    for flag, word in (("--pid", "pid"), ("--ipc", "ipc"), ("--uts", "uts"),
                       ("--cgroupns", "cgroup")):
        out = clients.docker("run", "--rm", flag, "bogus", "busybox", "true")
        assert out.returncode != 0, flag
        assert f"invalid {word}" in out.stderr.lower() and "mode" in out.stderr, out.stderr


def _shm_size(cli, *args: str) -> int:
    out = _run(cli, *args, "busybox", "sh", "-c", "grep ' /dev/shm ' /proc/mounts")
    options = out.split()[3].split(",")
    size = next(o for o in options if o.startswith("size="))[5:]
    assert size.endswith("k")
    return int(size[:-1]) * 1024


def test_shm_size(cli) -> None:
    assert _shm_size(cli) == 64 * 1024 * 1024
    assert _shm_size(cli, "--shm-size", "32m") == 32 * 1024 * 1024
    out = _run(cli, "--shm-size", "8m", "busybox", "df", "-k", "/dev/shm")
    assert out.splitlines()[1].split()[1] == "8192"


def test_negative_shm_size_is_refused(clients) -> None:
    reply = clients.api("POST", "/containers/create",
                        {"Image": "busybox", "HostConfig": {"ShmSize": -1}})
    assert (reply.status, reply.message) == (400, "SHM size can not be less than 0")


def test_tmpfs_mounts(cli) -> None:
    out = _run(cli, "--tmpfs", "/scratch:size=1m,mode=1700", "--tmpfs", "/plain", "busybox",
               "sh", "-c", "echo data > /scratch/f && cat /scratch/f && stat -c %a /scratch"
               " && grep -E ' /(scratch|plain) ' /proc/mounts")
    lines = out.splitlines()
    assert lines[:2] == ["data", "1700"]
    mounts = {line.split()[1]: line.split() for line in lines[2:]}
    assert mounts["/scratch"][2] == "tmpfs"
    options = mounts["/scratch"][3].split(",")
    assert {"nosuid", "nodev", "noexec", "size=1024k"} <= set(options)
    assert {"nosuid", "nodev", "noexec"} <= set(mounts["/plain"][3].split(","))


def test_tmpfs_exec_option_wins_over_the_default(cli) -> None:
    out = _run(cli, "--tmpfs", "/x:exec", "busybox", "sh", "-c",
               "cp /bin/busybox /x/ && /x/busybox echo ran")
    assert out.strip() == "ran"


def test_bad_tmpfs_is_refused(clients) -> None:
    for dest, text in (("relative", "invalid mount path: 'relative' mount path must be absolute"),
                       ("/", "invalid specification: destination can't be '/'")):
        reply = clients.api("POST", "/containers/create",
                            {"Image": "busybox", "HostConfig": {"Tmpfs": {dest: ""}}})
        assert (reply.status, reply.message) == (400, text)
    name = clients.name()
    out = clients.docker("run", "--name", name, "--tmpfs", "/x:bogus", "busybox", "true")
    assert out.returncode != 0
    assert 'invalid tmpfs option ["bogus"]' in out.stderr


def test_init_is_pid_1(cli) -> None:
    out = _run(cli, "--init", "busybox", "ps", "-o", "pid,comm")
    rows = [line.split() for line in out.splitlines()[1:]]
    assert ["1", "docker-init"] in rows or ["1", "tini-static"] in rows, out
    assert ["1", "ps"] not in rows


def test_init_forwards_stop_signal(clients) -> None:
    name = clients.name()
    assert clients.docker("run", "-d", "--init", "--name", name, "busybox", "sleep",
                          "1000").returncode == 0
    started = time.monotonic()
    assert clients.docker("stop", "-t", "20", name).returncode == 0
    assert time.monotonic() - started < 10  # SIGTERM reached sleep: no 20 s wait, no kill
    assert clients.inspect(name)["State"]["ExitCode"] == 143


def test_cpuset_cpus(cli) -> None:
    out = _run(cli, "--cpuset-cpus", "0", "--cpuset-mems", "0", "busybox", "grep",
               "_allowed_list", "/proc/self/status")
    allowed = dict(line.split(":\t") for line in out.splitlines())
    assert allowed["Cpus_allowed_list"] == "0"
    assert allowed["Mems_allowed_list"] == "0"


def test_unavailable_cpuset_is_refused(clients) -> None:
    v1 = "/sys/fs/cgroup/cpuset/cpuset.cpus"
    with open(v1 if os.path.exists(v1) else "/sys/fs/cgroup/cpuset.cpus.effective") as f:
        available = f.read().strip()
    reply = clients.api("POST", "/containers/create",
                        {"Image": "busybox", "HostConfig": {"CpusetCpus": "5000"}})
    assert reply.status == 400
    assert reply.message == (f"Requested CPUs are not available - requested 5000, "
                             f"available: {available}")
    reply = clients.api("POST", "/containers/create",
                        {"Image": "busybox", "HostConfig": {"CpusetCpus": "1-0"}})
    assert reply.status == 400
    assert reply.message == "Invalid value 1-0 for cpuset cpus: invalid format: 1-0"


@pytest.fixture
def cgroup_parent():
    """A parent cgroup of the test's own, removed after (the daemons leave it, as
    dockerd does); nothing of the container's may be left inside it."""
    name = f"wb-parent-{uuid.uuid4().hex[:8]}"
    yield name
    left = []
    unified = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    for controller in [""] if unified else os.listdir("/sys/fs/cgroup"):
        path = os.path.join("/sys/fs/cgroup", controller, name)
        if os.path.isdir(path):
            left += [sub for sub, _, _ in os.walk(path) if sub != path]
            for sub, _, _ in sorted(os.walk(path), key=lambda w: -len(w[0])):
                wait_until(lambda s=sub: _rmdir(s), what=f"rmdir {sub}")
    assert not left, f"cgroups left under the parent: {left}"


def _rmdir(path: str) -> bool:
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def test_cgroup_parent(clients, cgroup_parent) -> None:
    out = clients.docker("run", "--rm", "--cgroupns", "host", "--cgroup-parent",
                         "/" + cgroup_parent, "busybox", "cat", "/proc/self/cgroup")
    assert out.returncode == 0, out.stderr
    # v1's memory hierarchy, or v2's single one ("0::/path")
    lines = out.stdout.splitlines()
    memory = next((line for line in lines if ":memory:" in line), lines[-1])
    assert memory.split(":")[2].startswith(f"/{cgroup_parent}/"), out.stdout


def test_exec_joins_a_host_namespaces_container(clients) -> None:
    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "--pid", "host", "--uts", "host",
                          "--ipc", "host", "busybox", "sleep", "1000").returncode == 0
    out = clients.docker("exec", name, "sh", "-c", "hostname; readlink /proc/self/ns/pid")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [socket.gethostname(), os.readlink("/proc/self/ns/pid")]


def test_shareable_ipc_survives_a_restart(clients) -> None:
    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "--ipc", "shareable", "--shm-size", "2m",
                          "busybox", "sleep", "1000").returncode == 0
    assert clients.docker("restart", "-t", "0", name).returncode == 0
    out = clients.docker("exec", name, "df", "-k", "/dev/shm")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1].split()[1] == "2048"
