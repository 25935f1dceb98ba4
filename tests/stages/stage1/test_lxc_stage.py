"""What only stage 1 shows: the LXC config file it writes, and LXC's leftovers removed.

Real containers, made by LXC's tools under a stage 1 daemon of the test's own.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from ipaddress import ip_interface

import pytest

from stages.stage1_lxc import lxc_bindings
from tests.engines import Engine, leaks, snapshot, start_engine

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="containers need root"),
    pytest.mark.skipif(shutil.which("lxc-start") is None, reason="LXC is not installed"),
]


BINDINGS_MISSING = lxc_bindings.unavailable()


@pytest.fixture(scope="module", params=[
    "tools",
    pytest.param("python", marks=pytest.mark.skipif(
        BINDINGS_MISSING is not None, reason=f"no python3-lxc: {BINDINGS_MISSING}")),
])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A stage 1 daemon that drives LXC with its tools, then one that uses liblxc's
    Python bindings (WB_LXC_API reaches the daemon through its environment)."""
    saved = os.environ.get("WB_LXC_API")
    os.environ["WB_LXC_API"] = request.param
    try:
        with start_engine("stage1") as running:
            yield running
    finally:
        if saved is None:
            del os.environ["WB_LXC_API"]
        else:
            os.environ["WB_LXC_API"] = saved


def docker(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "-H", engine.host, *args], capture_output=True,
                          text=True, timeout=60)


def docker_bytes(engine: Engine, *args: str) -> subprocess.CompletedProcess[bytes]:
    """As `docker`, output untouched (text mode would read \r\n as a newline)."""
    return subprocess.run(["docker", "-H", engine.host, *args], capture_output=True,
                          timeout=60)


def lxc_dir(engine: Engine, cid: str) -> str:
    return os.path.join(engine.exec_root, "stage1_lxc", "lxc", cid)


def lxc_traces(engine: Engine, cid: str) -> list[str]:
    """Whatever of LXC's is there for one container: its cgroups, its monitor's and the
    monitor's pivot (in every hierarchy, also LXC's default `lxc.monitor.*`,
    `lxc.payload.*` names), its lock file, its state directory, and any process whose
    command line names it (lxc-start, lxc-attach, lxc-stop)."""
    found = glob.glob(f"/sys/fs/cgroup/*/whalebones/{cid}*")
    found += glob.glob(f"/sys/fs/cgroup/whalebones/{cid}*")
    found += glob.glob(f"/sys/fs/cgroup/*/lxc.monitor.{cid}") + glob.glob(
        f"/sys/fs/cgroup/*/lxc.payload.{cid}")
    lxcpath = os.path.join(engine.exec_root, "stage1_lxc", "lxc")
    found += glob.glob(f"/run/lxc/lock{lxcpath}/.{cid}")
    found += glob.glob(lxc_dir(engine, cid))
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(os.path.join(entry.path, "cmdline"), "rb") as f:
                    if cid.encode() in f.read():
                        found.append(f"process {entry.name}")
            except OSError:
                pass  # gone meanwhile
    return found


def lxc_cgroups(engine: Engine, cid: str) -> list[str]:
    return [t for t in lxc_traces(engine, cid) if t.startswith("/sys/fs/cgroup/")]


def test_run_m_u_w_writes_the_expected_config(engine: Engine) -> None:
    result = docker(engine, "run", "-d", "-m", "32m", "-u", "1000", "-w", "/tmp",
                    "--network", "none", "busybox", "sleep", "30")
    assert result.returncode == 0, result.stderr
    cid = result.stdout.strip()
    try:
        with open(os.path.join(lxc_dir(engine, cid), "config")) as f:
            lines = f.read().splitlines()
        for expected in [
            "lxc.cgroup.memory.limit_in_bytes = 33554432"
            if os.path.isdir("/sys/fs/cgroup/memory") else "lxc.cgroup2.memory.max = 33554432",
            "lxc.init.uid = 1000",
            "lxc.init.gid = 0",  # as Docker: a uid not in /etc/passwd gets group 0
            "lxc.init.cwd = /tmp",
            f"lxc.cgroup.dir.container = whalebones/{cid}",
            "lxc.net.0.type = empty",  # --network none: LXC makes an empty namespace
            "lxc.console.path = none",
        ]:
            assert expected in lines, expected
        # ...and the kernel holds the container to it
        out = docker(engine, "exec", cid, "sh", "-c", "id -u; pwd")
        assert out.stdout.split() == ["1000", "/tmp"], out.stderr
    finally:
        assert docker(engine, "rm", "-f", cid).returncode == 0


def test_nothing_of_lxc_is_left_after_rm(engine: Engine) -> None:
    result = docker(engine, "run", "-d", "busybox", "sleep", "30")
    assert result.returncode == 0, result.stderr
    cid = result.stdout.strip()
    assert lxc_cgroups(engine, cid), "the container's cgroups are where the config says"
    assert os.path.isdir(lxc_dir(engine, cid))
    assert docker(engine, "rm", "-f", cid).returncode == 0
    assert lxc_traces(engine, cid) == []


def test_nothing_of_lxc_is_left_after_a_tty_run(engine: Engine, tmp_path) -> None:
    """`-t`: lxc-start copies the container's console, and its monitor leaves a pivot
    cgroup as it exits; `run --rm` returns only once all of it is gone."""
    cidfile = tmp_path / "cid"
    result = docker_bytes(engine, "run", "--rm", "-t", "--cidfile", str(cidfile),
                          "busybox", "echo", "hi")
    assert (result.returncode, result.stdout) == (0, b"hi\r\n"), result.stderr
    assert lxc_traces(engine, cidfile.read_text()) == []


def test_nothing_of_lxc_is_left_after_tty_exec_and_rm(engine: Engine) -> None:
    result = docker(engine, "run", "-d", "-t", "busybox", "sleep", "30")
    assert result.returncode == 0, result.stderr
    cid = result.stdout.strip()
    out = docker_bytes(engine, "exec", "-t", cid, "tty")  # lxc-attach, under a pty of ours
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(rb"/dev/pts/\d+\r\n", out.stdout), out.stdout
    assert docker(engine, "rm", "-f", cid).returncode == 0
    assert lxc_traces(engine, cid) == []


def test_tty_output_passes_one_line_discipline(engine: Engine) -> None:
    r"""LXC sets its own terminal (our pty) up with ONLCR just before the init runs;
    were that to take effect, \r\n would come out \r\r\n (it did, 1 run in 4)."""
    for _ in range(10):
        result = docker_bytes(engine, "run", "--rm", "-t", "busybox", "sh", "-c",
                              "echo a; echo b")
        assert (result.returncode, result.stdout) == (0, b"a\r\nb\r\n"), result.stderr


def test_exit_code_and_oom_come_from_lxc(engine: Engine) -> None:
    """lxc-start exits 0 whatever its init did: the executor reads LXC's log."""
    result = docker(engine, "run", "--rm", "busybox", "sh", "-c", "exit 42")
    assert result.returncode == 42
    result = docker(engine, "run", "--rm", "-m", "8m", "busybox", "tail", "/dev/zero")
    assert result.returncode == 137


def test_the_container_is_run_by_the_lxc_api_asked_for(engine: Engine) -> None:
    """The init's parent is LXC's monitor: lxc-start, or our helper over liblxc."""
    result = docker(engine, "run", "-d", "busybox", "sleep", "30")
    assert result.returncode == 0, result.stderr
    cid = result.stdout.strip()
    try:
        pid = docker(engine, "inspect", "-f", "{{.State.Pid}}", cid).stdout.strip()
        with open(f"/proc/{pid}/status") as f:
            ppid = next(ln.split()[1] for ln in f if ln.startswith("PPid:"))
        with open(f"/proc/{ppid}/cmdline", "rb") as f:
            monitor = f.read().split(b"\0")
        if os.environ["WB_LXC_API"] == "python":
            assert monitor[3].endswith(b"/lxc_bindings.py") and monitor[4] == b"start", monitor
        else:
            assert monitor[0] == b"lxc-start", monitor
        # exec: lxc-attach, or liblxc's attach with a working directory of its own
        out = docker(engine, "exec", "-w", "/tmp", cid, "pwd")
        assert (out.returncode, out.stdout) == (0, "/tmp\n"), out.stderr
    finally:
        assert docker(engine, "rm", "-f", cid).returncode == 0


def lxc_config_lines(engine: Engine, cid: str) -> list[str]:
    with open(os.path.join(lxc_dir(engine, cid), "config")) as f:
        return f.read().splitlines()


def in_container(engine: Engine, cid: str, script: str) -> str:
    out = docker(engine, "exec", cid, "sh", "-c", script)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_lxc_makes_the_bridge_network_from_the_daemons_plan(engine: Engine) -> None:
    """The daemon plans the endpoint (address, MAC, host end's name); LXC's own
    `lxc.net.0` keys make the namespace and the veth, not the daemon; the daemon pins
    LXC's namespace where `docker inspect` says (SandboxKey); rm leaves nothing."""
    before = snapshot(engine)
    result = docker(engine, "run", "-d", "busybox", "sleep", "60")
    assert result.returncode == 0, result.stderr
    cid = result.stdout.strip()
    try:
        info = json.loads(docker(engine, "inspect", cid).stdout)[0]
        net = info["NetworkSettings"]
        ip, plen, mac, gateway = (net["IPAddress"], net["IPPrefixLen"], net["MacAddress"],
                                  net["Gateway"])
        lines = lxc_config_lines(engine, cid)
        assert not [ln for ln in lines if ln.startswith("lxc.namespace.share.net")], lines
        values = dict(ln.split(" = ", 1) for ln in lines if ln.startswith("lxc.net.0."))
        host_end = values["lxc.net.0.veth.pair"]
        bridge = f"{engine.net_prefix}0"
        assert values == {
            "lxc.net.0.type": "veth",
            "lxc.net.0.link": bridge,
            "lxc.net.0.veth.pair": host_end,
            "lxc.net.0.name": "eth0",
            "lxc.net.0.hwaddr": mac,
            # the broadcast address said, not left to LXC (see lxc_config.veth)
            "lxc.net.0.ipv4.address": f"{ip}/{plen} {ip_interface(f'{ip}/{plen}').network[-1]}",
            "lxc.net.0.ipv4.gateway": gateway,
            "lxc.net.0.flags": "up",
        }, values
        assert host_end.startswith(engine.net_prefix) and len(host_end) <= 15
        # ...and that is the network the container has
        assert f"inet {ip}/{plen} " in in_container(engine, cid, "ip -o -4 addr show eth0")
        assert in_container(engine, cid, "cat /sys/class/net/eth0/address").strip() == mac
        assert f"default via {gateway} dev eth0" in in_container(engine, cid, "ip route")
        # the host end has the planned name, is a port of the bridge, and is eth0's peer
        assert os.path.basename(os.readlink(f"/sys/class/net/{host_end}/master")) == bridge
        with open(f"/sys/class/net/{host_end}/ifindex") as f:
            host_index = f.read().strip()
        assert in_container(engine, cid, "cat /sys/class/net/eth0/iflink").strip() == host_index
        # the daemon pinned LXC's namespace (the init's) at the sandbox's path
        pid = info["State"]["Pid"]
        assert os.stat(net["SandboxKey"]).st_ino == os.stat(f"/proc/{pid}/ns/net").st_ino
        assert os.stat(net["SandboxKey"]).st_ino != os.stat("/proc/self/ns/net").st_ino
    finally:
        assert docker(engine, "rm", "-f", cid).returncode == 0
    assert not os.path.exists(f"/sys/class/net/{host_end}")
    assert not os.path.exists(net["SandboxKey"])
    assert leaks(engine, before) == []


def test_one_lxc_net_per_network_and_connect_while_running(engine: Engine) -> None:
    """A container on two networks gets lxc.net.0 and lxc.net.1 (the default route
    on eth0 only); `network connect` of the running container plugs a third veth
    into LXC's namespace, through the pin, as the daemon does in every stage."""
    before = snapshot(engine)
    names = [f"wbl1-{os.urandom(3).hex()}" for _ in range(2)]
    for name in names:
        assert docker(engine, "network", "create", name).returncode == 0
    cid = ""
    try:
        result = docker(engine, "create", "--network", names[0], "busybox", "sleep", "60")
        assert result.returncode == 0, result.stderr
        cid = result.stdout.strip()
        assert docker(engine, "network", "connect", "bridge", cid).returncode == 0
        assert docker(engine, "start", cid).returncode == 0
        lines = lxc_config_lines(engine, cid)
        assert [ln for ln in lines if ln.endswith(".type = veth")] == [
            "lxc.net.0.type = veth", "lxc.net.1.type = veth"]
        assert [ln.split(" = ")[0] for ln in lines if ".ipv4.gateway = " in ln] == [
            "lxc.net.0.ipv4.gateway"]
        networks = json.loads(docker(engine, "inspect", cid).stdout)[0][
            "NetworkSettings"]["Networks"]
        addrs = in_container(engine, cid, "ip -o -4 addr")
        for name in (names[0], "bridge"):
            assert networks[name]["IPAddress"] in addrs, (name, addrs)
        assert in_container(engine, cid, "ip route | grep ^default").split()[2] == \
            networks[names[0]]["Gateway"]
        assert docker(engine, "network", "connect", names[1], cid).returncode == 0
        third = json.loads(docker(engine, "inspect", cid).stdout)[0][
            "NetworkSettings"]["Networks"][names[1]]["IPAddress"]
        assert f"inet {third}/" in in_container(engine, cid, "ip -o -4 addr show eth2")
    finally:
        if cid:
            assert docker(engine, "rm", "-f", cid).returncode == 0
        for name in names:
            docker(engine, "network", "rm", name)
    assert leaks(engine, before) == []


def test_a_crashed_daemons_containers_are_ended_by_the_next(engine: Engine) -> None:
    """kill -9 the daemon: lxc-start, its child no more, runs the container on. The
    daemon that starts next does not know it; deleting it ends lxc-start and the
    container, and leaves nothing of LXC's."""
    result = docker(engine, "run", "-d", "-t", "busybox", "sleep", "300")
    assert result.returncode == 0, result.stderr
    cid = result.stdout.strip()
    engine.kill_daemon()
    assert any(t.startswith("process ") for t in lxc_traces(engine, cid)), "lxc-start ran on"
    engine.restart_daemon()
    inspect = docker(engine, "inspect", "-f", "{{.State.Running}}", cid)
    assert inspect.stdout.strip() == "false", inspect.stderr
    assert lxc_traces(engine, cid) == []
    assert docker(engine, "rm", cid).returncode == 0
