"""Networking: bridges, addresses, names, published ports, driven by the docker CLI.

Traffic goes only between the engine's own containers, its bridge's gateway and the
host's loopback. User-defined networks run on the reference too (its dockerd makes
bridges and runs docker-proxy even with --iptables=false); the default bridge does not
exist there (--bridge=none, so that the reference never touches the host's docker0 and
iptables), hence the tests of the default bridge are ours only.
"""

from __future__ import annotations

import json
import random
import time
import urllib.request
import uuid

import pytest

from tests.engines import our_links, our_rules

DEFAULT_BRIDGE = pytest.mark.ours_only(
    reason="the reference dockerd runs with --bridge=none --iptables=false: no default "
    "bridge, so that it never touches the host's docker0 or iptables")


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def network(clients):  # type: ignore[no-untyped-def]
    """A user-defined bridge network, removed (with its containers) after the test."""
    name = f"wbnet-{uuid.uuid4().hex[:8]}"
    ok(clients.docker("network", "create", name))
    yield name
    clients.cleanup()
    clients.names.clear()
    clients.docker("network", "rm", name)


def address(clients, name: str, network: str = "bridge") -> str:  # type: ignore[no-untyped-def]
    return clients.inspect(name)["NetworkSettings"]["Networks"][network]["IPAddress"]


def detached(clients, *args: str) -> str:  # type: ignore[no-untyped-def]
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, *args))
    return name


def fetch(url: str, timeout: float = 10) -> str:
    """GET url, retrying while the server in the container is still starting."""
    end = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as reply:
                return reply.read().decode()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


# --- user-defined networks (ours and the reference) ----------------------------------


def test_network_create_ls_inspect_rm(clients) -> None:
    name = f"wbnet-{uuid.uuid4().hex[:8]}"
    net_id = ok(clients.docker("network", "create", name)).strip()
    try:
        listed = ok(clients.docker("network", "ls", "--format", "{{.Name}} {{.Driver}}"))
        assert f"{name} bridge" in listed.splitlines()
        predefined = {"bridge", "host", "none"} if clients.engine.ours else {"host", "none"}
        assert predefined <= {line.split()[0] for line in listed.splitlines()}
        [info] = json.loads(ok(clients.docker("network", "inspect", name)))
        assert info["Id"] == net_id and info["Driver"] == "bridge"
        assert info["IPAM"]["Config"][0]["Subnet"]
        again = clients.docker("network", "create", name)
        assert again.returncode != 0 and "already exists" in again.stderr
    finally:
        ok(clients.docker("network", "rm", name))
    gone = clients.docker("network", "inspect", name)
    assert gone.returncode != 0 and "not found" in gone.stderr


def test_predefined_networks_cannot_be_removed(clients) -> None:
    result = clients.docker("network", "rm", "host")
    assert result.returncode != 0 and "pre-defined" in result.stderr


def test_containers_reach_each_other_by_name(clients, network) -> None:
    server = detached(clients, "--network", network, "busybox", "sh", "-c",
                      "while true; do echo hello-from-server | nc -l -p 5000; done")
    out = ok(clients.docker("run", "--rm", "--network", network, "busybox", "sh", "-c",
                            f"ping -c1 -W5 {server} >/dev/null && echo pinged && "
                            f"for i in 1 2 3 4 5 6 7 8 9 10; do "
                            f"nc -w 3 {server} 5000 </dev/null && break; sleep 0.3; done"))
    assert out.splitlines() == ["pinged", "hello-from-server"]


def test_names_resolve_to_the_containers_address(clients, network) -> None:
    server = detached(clients, "--network", network, "--network-alias", "db",
                      "busybox", "sleep", "60")
    ip = address(clients, server, network)
    out = ok(clients.docker("run", "--rm", "--network", network, "busybox", "sh", "-c",
                            f"nslookup {server}; nslookup db"))
    assert out.count(f"Address: {ip}") == 2, out


def test_published_port_from_the_hosts_loopback(clients, network) -> None:
    server = detached(clients, "--network", network, "-p", "127.0.0.1::80",
                      "busybox", "httpd", "-f", "-p", "80", "-h", "/etc")
    mapping = ok(clients.docker("port", server, "80/tcp")).split()[0]
    host_ip, port = mapping.rsplit(":", 1)
    assert host_ip == "127.0.0.1" and int(port) > 0
    hostname = clients.inspect(server)["Config"]["Hostname"]
    assert fetch(f"http://127.0.0.1:{port}/hostname").strip() == hostname


def test_a_host_port_range_gives_each_container_a_free_port_of_it(clients, network) -> None:
    low = random.randrange(40000, 60000, 2)
    spec = f"127.0.0.1:{low}-{low + 1}:80"
    ports = set()
    for _ in range(2):
        server = detached(clients, "--network", network, "-p", spec,
                          "busybox", "httpd", "-f", "-p", "80", "-h", "/etc")
        host_ip, port = ok(clients.docker("port", server, "80/tcp")).split()[0].rsplit(":", 1)
        assert host_ip == "127.0.0.1" and int(port) in (low, low + 1)
        hostname = clients.inspect(server)["Config"]["Hostname"]
        assert fetch(f"http://127.0.0.1:{port}/hostname").strip() == hostname
        ports.add(port)
    assert len(ports) == 2  # the second got the port the first left free
    result = clients.docker("run", "-d", "--name", clients.name(), "--network", network,
                            "-p", spec, "busybox", "sleep", "60")
    assert result.returncode != 0 and "all ports are allocated" in result.stderr


def test_addresses_are_reused_after_rm(clients, network) -> None:
    first = detached(clients, "--network", network, "busybox", "sleep", "60")
    ip = address(clients, first, network)
    ok(clients.docker("rm", "-f", first))
    second = detached(clients, "--network", network, "busybox", "sleep", "60")
    assert address(clients, second, network) == ip


def test_network_with_a_running_container_is_not_removed(clients, network) -> None:
    detached(clients, "--network", network, "busybox", "sleep", "60")
    result = clients.docker("network", "rm", network)
    assert result.returncode != 0 and "active endpoints" in result.stderr


def test_connect_and_disconnect(clients, network) -> None:
    other = f"wbnet-{uuid.uuid4().hex[:8]}"
    ok(clients.docker("network", "create", other))
    try:
        name = detached(clients, "--network", network, "busybox", "sleep", "60")
        ok(clients.docker("network", "connect", other, name))
        networks = clients.inspect(name)["NetworkSettings"]["Networks"]
        assert set(networks) == {network, other}
        ip = networks[other]["IPAddress"]
        seen = ok(clients.docker("exec", name, "ip", "-o", "-4", "addr"))
        assert ip in seen
        [info] = json.loads(ok(clients.docker("network", "inspect", other)))
        assert [c["Name"] for c in info["Containers"].values()] == [name]
        ok(clients.docker("network", "disconnect", other, name))
        assert set(clients.inspect(name)["NetworkSettings"]["Networks"]) == {network}
        assert ip not in ok(clients.docker("exec", name, "ip", "-o", "-4", "addr"))
    finally:
        clients.cleanup()
        clients.names.clear()
        clients.docker("network", "rm", other)


def test_network_container_mode_shares_the_namespace(clients, network) -> None:
    """`--network container:X`: X's interfaces, address, loopback and hostname."""
    server = detached(clients, "--network", network, "busybox", "sh", "-c",
                      "while true; do echo from-the-server | nc -l -p 5000; done")
    ip = address(clients, server, network)
    out = ok(clients.docker("run", "--rm", "--network", f"container:{server}", "busybox",
                            "sh", "-c", "hostname; ip -o -4 addr show eth0; "
                            "for i in 1 2 3 4 5 6 7 8 9 10; do "
                            "nc -w 3 127.0.0.1 5000 </dev/null && break; sleep 0.3; done"))
    hostname, addr, reply = out.splitlines()
    assert hostname == clients.inspect(server)["Config"]["Hostname"]
    assert f" {ip}/" in addr
    assert reply == "from-the-server"  # its loopback is the server's loopback

    joiner = clients.name()
    ok(clients.docker("create", "--name", joiner, "--network", f"container:{server}",
                      "busybox", "true"))
    assert clients.inspect(joiner)["HostConfig"]["NetworkMode"].startswith("container:")
    ok(clients.docker("stop", "-t", "0", server))
    result = clients.docker("start", joiner)
    assert result.returncode != 0
    assert "cannot join network of a non running container" in result.stderr


def test_network_container_mode_refuses_ports_and_hostname(clients, network) -> None:
    server = detached(clients, "--network", network, "busybox", "sleep", "60")
    for extra, words in ((("-p", "80"), "port publishing and the container type network"),
                         (("--hostname", "x"), "conflicting options: hostname")):
        result = clients.docker("run", "--rm", "--network", f"container:{server}", *extra,
                                "busybox", "true")
        assert result.returncode != 0 and words in result.stderr, result.stderr
    result = clients.docker("run", "--rm", "--network", "container:wb-no-such-container",
                            "busybox", "true")
    assert result.returncode != 0 and "No such container" in result.stderr


@pytest.mark.ours_only(reason="isolation is iptables rules, and the reference dockerd runs "
                       "with --iptables=false so that it never touches the host's rules")
def test_networks_are_isolated_from_each_other(clients, network) -> None:
    """A container reaches another network's container only once connected to it."""
    other = f"wbnet-{uuid.uuid4().hex[:8]}"
    ok(clients.docker("network", "create", other))
    try:
        server = detached(clients, "--network", other, "busybox", "sleep", "60")
        ip = address(clients, server, other)
        client = detached(clients, "--network", network, "busybox", "sleep", "60")
        ping = ["exec", client, "ping", "-c1", "-W2", ip]
        assert clients.docker(*ping).returncode != 0  # dropped between the bridges
        ok(clients.docker("network", "connect", other, client))
        ok(clients.docker(*ping))  # now on the same bridge
        ok(clients.docker("network", "disconnect", other, client))
        assert clients.docker(*ping).returncode != 0
    finally:
        clients.cleanup()
        clients.names.clear()
        clients.docker("network", "rm", other)


# --- the default bridge (ours) ---------------------------------------------------------


@DEFAULT_BRIDGE
def test_default_bridge_address_route_and_etc_files(clients) -> None:
    out = ok(clients.docker("run", "--rm", "--hostname", "box", "busybox", "sh", "-c",
                            "ip -o -4 addr show eth0; ip route; cat /etc/hosts /etc/hostname"))
    lines = out.splitlines()
    ip = lines[0].split()[3].split("/")[0]
    assert any(line.startswith("default via ") for line in lines)
    assert f"{ip}\tbox" in lines and lines[-1] == "box"


@DEFAULT_BRIDGE
def test_default_bridge_containers_ping_and_talk_tcp(clients) -> None:
    server = detached(clients, "busybox", "sh", "-c",
                      "while true; do echo over-tcp | nc -l -p 5000; done")
    ip = address(clients, server)
    out = ok(clients.docker("run", "--rm", "busybox", "sh", "-c",
                            f"ping -c1 -W5 {ip} >/dev/null && echo pinged && "
                            f"for i in 1 2 3 4 5 6 7 8 9 10; do "
                            f"nc -w 3 {ip} 5000 </dev/null && break; sleep 0.3; done"))
    assert out.splitlines() == ["pinged", "over-tcp"]


@DEFAULT_BRIDGE
def test_published_port_has_a_dnat_rule_and_a_proxy(clients) -> None:
    server = detached(clients, "-p", "80", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc")
    port = int(ok(clients.docker("port", server, "80/tcp")).split()[0].rsplit(":", 1)[1])
    ip = address(clients, server)
    rules = our_rules(clients.engine.net_prefix)
    assert any(f"--dport {port} " in r and f"--to-destination {ip}:80" in r for r in rules)
    hostname = clients.inspect(server)["Config"]["Hostname"]
    assert fetch(f"http://127.0.0.1:{port}/hostname").strip() == hostname
    ps = ok(clients.docker("ps", "--filter", f"name={server}", "--format", "{{.Ports}}"))
    assert f":{port}->80/tcp" in ps
    ok(clients.docker("rm", "-f", server))
    clients.names.remove(server)
    assert not any(f"--dport {port} " in r for r in our_rules(clients.engine.net_prefix))


@DEFAULT_BRIDGE
def test_network_none_and_host_stay(clients) -> None:
    none = ok(clients.docker("run", "--rm", "--network", "none", "busybox", "ls",
                             "/sys/class/net"))
    assert none.split() == ["lo"]
    inspect = clients.api("POST", "/containers/create", {
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "nosuchnet"}})
    assert inspect.status == 404 and "not found" in inspect.message


@DEFAULT_BRIDGE
@pytest.mark.parametrize("how", ["restart", "crash"])
def test_nothing_left_or_double_booked_after_the_daemon_goes(clients, network, how) -> None:
    """A running container with a published port on a user network; the daemon stops
    (SIGTERM: it stops its containers) or crashes (SIGKILL) and comes back:
    the container is over, its veth, DNAT rule, namespace and address are gone, and
    the address is handed out again, once."""
    engine = clients.engine
    before_links = our_links(engine.net_prefix)
    name = detached(clients, "--network", network, "-p", "80", "busybox", "sleep", "300")
    ip = address(clients, name, network)
    assert our_links(engine.net_prefix) - before_links  # its veth
    if how == "restart":
        engine.process.terminate()
        engine.process.wait(30)
    else:
        engine.kill_daemon()
    engine.restart_daemon()
    assert clients.inspect(name)["State"]["Running"] is False
    assert our_links(engine.net_prefix) == before_links
    assert not any("DNAT" in r for r in our_rules(engine.net_prefix))
    assert not list(engine.exec_root.glob("*/netns/*"))
    one = detached(clients, "--network", network, "busybox", "sleep", "60")
    two = detached(clients, "--network", network, "busybox", "sleep", "60")
    assert address(clients, one, network) == ip
    assert address(clients, two, network) != ip
