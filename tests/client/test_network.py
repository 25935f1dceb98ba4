"""Networking from the command line: `run -p/-P/--expose/--network-alias`, `port`, and
`network create/ls/inspect/connect/disconnect/rm`, with our CLI and docker's alike.

Traffic stays on this machine: published ports are bound to 127.0.0.1 where the test
chooses (`-P` binds every address, as docker does, but only loopback is dialled), and
containers talk over the engine's own bridges. Each test runs on a user-defined network
of its own: the reference dockerd runs without a default bridge (--bridge=none).
"""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from shared.client.api import APIError, Client

# A web server in the container: busybox httpd serving one page on port 80.
SERVE = ["sh", "-c", "mkdir -p /www && echo hello from the container > /www/index.html "
         "&& exec httpd -f -p 80 -h /www"]
PAGE = "hello from the container\n"


@pytest.fixture
def networks(host: str) -> Iterator[Callable[[], str]]:
    """`networks()` -> a fresh network name; each is removed after the test, together
    with any container still on it."""
    made: list[str] = []

    def new() -> str:
        made.append(f"wb-net-{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield new
    client = Client(host)
    for network in made:
        try:
            info = client.request("GET", f"/networks/{network}")
        except APIError:
            continue  # never created, or removed by the test
        for container in info.get("Containers") or {}:
            client.request("DELETE", f"/containers/{container}", query={"force": True})
        client.request("DELETE", f"/networks/{network}")


@pytest.fixture
def containers(host: str) -> Iterator[Callable[[], str]]:
    """`containers()` -> a fresh container name; whatever has it is removed after."""
    made: list[str] = []

    def new() -> str:
        made.append(f"wb-client-{uuid.uuid4().hex[:10]}")
        return made[-1]

    yield new
    client = Client(host)
    for container in made:
        try:
            client.request("DELETE", f"/containers/{container}", query={"force": True})
        except APIError as error:
            assert error.status == 404, error.message


@pytest.fixture
def network(cli, networks: Callable[[], str]) -> str:
    """A user-defined bridge network, created with the CLI under test."""
    name = networks()
    created = cli("network", "create", name)
    assert created.returncode == 0, created.stderr
    return name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, deadline: float = 20.0) -> str:
    """GET / from 127.0.0.1:port, retried while the server in the container starts
    (until then the engine's proxy accepts and closes, or refuses)."""
    end = time.monotonic() + deadline
    last = ""
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
                sock.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
                reply = b""
                while chunk := sock.recv(65536):
                    reply += chunk
            head, _, body = reply.decode(errors="replace").partition("\r\n\r\n")
            if head.startswith("HTTP/1.") and " 200 " in head.split("\r\n")[0]:
                return body
            last = head
        except OSError as error:
            last = str(error)
        time.sleep(0.2)
    raise AssertionError(f"no page from 127.0.0.1:{port} in {deadline} s: {last}")


def host_port(cli, container: str, private: str) -> int:
    result = cli("port", container, private)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.splitlines()[0].rpartition(":")[2])


# -- publishing ports ------------------------------------------------------------------


def test_published_port_reaches_the_container(cli, network, containers) -> None:
    name, port = containers(), free_port()
    started = cli("run", "-d", "--name", name, "--network", network,
                  "-p", f"127.0.0.1:{port}:80", "busybox", *SERVE)
    assert started.returncode == 0, started.stderr
    assert http_get(port) == PAGE
    shown = cli("port", name)
    assert (shown.returncode, shown.stdout) == (0, f"80/tcp -> 127.0.0.1:{port}\n"), shown.stderr
    assert cli("port", name, "80").stdout == f"127.0.0.1:{port}\n"
    assert cli("port", name, "80/tcp").stdout == f"127.0.0.1:{port}\n"


def test_random_host_port(cli, network, containers) -> None:
    """`-p IP::80`: the engine picks the host port; `port` says which."""
    name = containers()
    started = cli("run", "-d", "--name", name, "--network", network, "-p", "127.0.0.1::80",
                  "busybox", *SERVE)
    assert started.returncode == 0, started.stderr
    assert http_get(host_port(cli, name, "80")) == PAGE


def test_publish_and_expose_reach_the_config(cli, network, containers) -> None:
    name = containers()
    created = cli("create", "--name", name, "--network", network,
                  "-p", "127.0.0.1:8080:80", "-p", "53/udp", "-p", "[::1]:8443:443",
                  "--expose", "90-91", "busybox", "true")
    assert created.returncode == 0, created.stderr
    shown = cli("inspect", "-f", "{{json .Config.ExposedPorts}}|{{json .HostConfig.PortBindings}}",
                name)
    exposed, bindings = (json.loads(part) for part in shown.stdout.split("|"))
    assert set(exposed) == {"80/tcp", "53/udp", "443/tcp", "90/tcp", "91/tcp"}
    assert bindings == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
        "53/udp": [{"HostIp": "", "HostPort": ""}],
        "443/tcp": [{"HostIp": "::1", "HostPort": "8443"}],
    }


def test_port_lists_every_mapping_in_order(cli, network, containers) -> None:
    name = containers()
    started = cli("run", "-d", "--name", name, "--network", network, "-p", "127.0.0.1::80",
                  "-p", "127.0.0.1::9", "-p", "127.0.0.1::53/udp", "--expose", "7",
                  "busybox", "sleep", "60")
    assert started.returncode == 0, started.stderr
    shown = cli("port", name)
    assert shown.returncode == 0, shown.stderr
    keys = [line.partition(" -> ")[0] for line in shown.stdout.splitlines()]
    assert keys == ["9/tcp", "53/udp", "80/tcp"]  # natural order; 7 is exposed only
    assert all(re.fullmatch(r"\S+ -> 127\.0\.0\.1:\d+", line)
               for line in shown.stdout.splitlines())
    assert cli("port", name, "53/udp").stdout == shown.stdout.splitlines()[1][10:] + "\n"


def test_ps_shows_ports_as_docker_does(cli, network, containers) -> None:
    """Exposed ports in runs (`90-91/tcp`), then each published one."""
    name = containers()
    started = cli("run", "-d", "--name", name, "--network", network, "-p", "127.0.0.1::80",
                  "--expose", "91", "--expose", "90", "--expose", "95/udp",
                  "busybox", "sleep", "60")
    assert started.returncode == 0, started.stderr
    port = host_port(cli, name, "80")
    (line,) = [row for row in cli("ps").stdout.splitlines() if row.endswith(" " + name)]
    assert f"   90-91/tcp, 95/udp, 127.0.0.1:{port}->80/tcp   {name}" in line


def test_port_errors(cli, network, containers) -> None:
    name = containers()
    started = cli("run", "-d", "--name", name, "--network", network, "--expose", "7",
                  "busybox", "sleep", "60")
    assert started.returncode == 0, started.stderr
    for asked in ("7", "80/udp"):
        result = cli("port", name, asked)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == f"Error: No public port '{asked}' published for {name}\n"
    result = cli("port", name, "http")
    assert result.returncode == 1
    assert result.stderr == ('Error: invalid port (http): strconv.ParseUint: parsing "http": '
                             "invalid syntax\n")
    result = cli("port", "wb-no-such-container")
    assert result.returncode == 1
    assert result.stderr == "Error response from daemon: No such container: wb-no-such-container\n"
    result = cli("port")
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"{cli.name}: '{cli.name} port' requires at least 1 and at most 2 arguments\n")


def test_publish_all(cli, network, containers) -> None:
    """`-P`: every exposed port (--expose, or the image's EXPOSE) on a port the engine
    picks, on every host address; `port` shows where."""
    name = containers()
    started = cli("run", "-d", "--name", name, "--network", network, "-P", "--expose", "80",
                  "busybox", *SERVE)
    assert started.returncode == 0, started.stderr
    assert cli("inspect", "-f", "{{.HostConfig.PublishAllPorts}}", name).stdout == "true\n"
    shown = cli("port", name, "80")
    assert shown.returncode == 0, shown.stderr
    assert re.match(r"0\.0\.0\.0:\d+\n", shown.stdout), shown.stdout
    assert http_get(host_port(cli, name, "80")) == PAGE


@pytest.mark.parametrize(("spec", "message"), [
    ("80:foo", "invalid containerPort: foo"),
    ("http", "invalid containerPort: http"),
    ("8080:80/sctpx", "invalid proto: sctpx"),
    ("1.2.3:80:80", "invalid IP address: 1.2.3"),
    ("8080:", "no port specified: 8080:<empty>"),
    ("x:80", "invalid hostPort: x"),
    ("99999", "invalid containerPort: 99999"),
    ("8080-8081:80-82", "invalid ranges specified for container and host Ports: 80-82 and "
                        "8080-8081"),
])
@pytest.mark.parametrize("verb", ["run", "create"])
def test_bad_publish_spec_is_125_and_creates_nothing(cli, name, verb, spec, message) -> None:
    result = cli(verb, "--name", name, "-p", spec, "busybox", "true")
    assert result.returncode == 125
    assert result.stderr == (f"{cli.name}: {message}\n\n"
                             f"Run '{cli.name} {verb} --help' for more information\n")
    assert cli("inspect", name).returncode == 1  # nothing was created


def test_bad_expose_is_125(cli, name) -> None:
    result = cli("run", "--name", name, "--expose", "80:80", "busybox", "true")
    assert result.returncode == 125
    assert result.stderr.startswith(f"{cli.name}: invalid port format for --expose: 80:80\n")
    result = cli("run", "--name", name, "--expose", "web", "busybox", "true")
    assert result.returncode == 125
    assert result.stderr.startswith(
        f'{cli.name}: invalid range format for --expose: web, error: strconv.ParseUint: '
        f'parsing "web": invalid syntax\n')
    assert cli("inspect", name).returncode == 1


# -- networks ----------------------------------------------------------------------------


def test_network_create_ls_inspect_rm(cli, networks) -> None:
    name = networks()
    created = cli("network", "create", "-d", "bridge", name)
    assert created.returncode == 0, created.stderr
    network_id = created.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", network_id), created.stdout

    listed = cli("network", "ls")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert re.fullmatch(r"NETWORK ID {5}NAME +DRIVER +SCOPE", header), header
    assert [network_id[:12], name, "bridge", "local"] in [row.split() for row in rows]
    names = [row.split()[1] for row in rows]
    assert names == sorted(names)  # by name, whatever order the engine gives
    assert network_id[:12] in cli("network", "ls", "-q").stdout.split()
    assert cli("network", "ls", "-q", "--no-trunc", "-f", f"name={name}").stdout == \
        network_id + "\n"

    inspected = cli("network", "inspect", name)
    assert inspected.returncode == 0, inspected.stderr
    (info,) = json.loads(inspected.stdout)
    assert (info["Name"], info["Id"], info["Driver"], info["Scope"]) == \
        (name, network_id, "bridge", "local")
    assert info["IPAM"]["Config"][0]["Subnet"]
    assert cli("network", "inspect", "-f", "{{.Name}} {{.Driver}}", network_id).stdout == \
        f"{name} bridge\n"
    assert json.loads(cli("inspect", name).stdout)[0]["Id"] == network_id

    again = cli("network", "create", name)
    assert again.returncode == 1
    assert again.stderr == f"Error response from daemon: network with name {name} already exists\n"

    removed = cli("network", "rm", name)
    assert (removed.returncode, removed.stdout) == (0, f"{name}\n"), removed.stderr
    gone = cli("network", "inspect", name)
    assert (gone.returncode, gone.stdout) == (1, "[]\n")
    assert gone.stderr == f"Error response from daemon: network {name} not found\n"
    assert name not in cli("network", "ls").stdout


def test_network_rm_errors(cli) -> None:
    result = cli("network", "rm", "wb-no-such-network")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("Error response from daemon: network wb-no-such-network not found\n"
                             "exit status 1\n")
    result = cli("network", "rm", "-f", "wb-no-such-network")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_network_create_with_subnet_and_gateway(cli, networks, containers) -> None:
    name = networks()
    third = uuid.uuid4().int % 200 + 20
    subnet, gateway = f"10.231.{third}.0/24", f"10.231.{third}.254"
    created = cli("network", "create", "--subnet", subnet, "--gateway", gateway, name)
    assert created.returncode == 0, created.stderr
    config = cli("network", "inspect", "-f", "{{json .IPAM.Config}}", name)
    assert json.loads(config.stdout) == [{"Subnet": subnet, "Gateway": gateway}]
    routes = cli("run", "--rm", "--network", name, "busybox", "ip", "route")
    assert f"default via {gateway}" in routes.stdout, routes.stderr


@pytest.mark.parametrize(("flags", "message"), [
    (["--gateway", "10.232.0.1"], "every ip-range or gateway must have a corresponding subnet"),
    (["--subnet", "10.232.0.0/16", "--gateway", "10.9.0.1"],
     "no matching subnet for gateway 10.9.0.1"),
    (["--subnet", "10.232.0.0/16,10.232.1.0/24"],
     "multiple overlapping subnet configuration is not supported"),
])
def test_network_create_checks_ipam_flags(cli, networks, flags, message) -> None:
    name = networks()
    result = cli("network", "create", *flags, name)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", message + "\n")
    assert cli("network", "inspect", name).returncode == 1


def test_containers_resolve_each_other_on_a_user_network(cli, network, containers) -> None:
    """Two containers on one user-defined network reach each other by name and by
    --network-alias; disconnect takes a container off it, connect puts it back."""
    server, client = containers(), containers()
    started = cli("run", "-d", "--name", server, "--network", network,
                  "--network-alias", "web", "busybox", *SERVE)
    assert started.returncode == 0, started.stderr
    started = cli("run", "-d", "--name", client, "--network", network, "busybox", "sleep", "120")
    assert started.returncode == 0, started.stderr

    def fetch(host: str) -> str:
        """GET / from `host`:80 with nc (busybox-static's wget crashes), retried while
        the server may still be starting. (nc reads on after its stdin ends, until
        httpd closes the connection: HTTP/1.0.)"""
        request = f'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc {host} 80'
        for _ in range(30):
            got = cli("exec", client, "sh", "-c", request)
            head, _, body = got.stdout.partition("\n\n")  # text mode made \r\n \n
            if got.returncode == 0 and head.startswith("HTTP/1.1 200"):
                return body
            time.sleep(0.2)
        raise AssertionError(f"{client} cannot fetch http://{host}/: {got.stderr}")

    assert fetch(server) == PAGE
    assert fetch("web") == PAGE

    on_network = json.loads(cli("network", "inspect", "-f", "{{json .Containers}}",
                                network).stdout)
    assert sorted(c["Name"] for c in on_network.values()) == sorted([server, client])

    # Off the network: its interface there is gone.
    result = cli("network", "disconnect", network, client)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert cli("exec", client, "ls", "/sys/class/net").stdout.split() == ["lo"]
    again = cli("network", "disconnect", network, client)
    assert again.returncode == 1
    assert again.stderr.startswith("Error response from daemon: container ")
    assert again.stderr.endswith(f" is not connected to network {network}\n")

    # Back on, with an alias of its own.
    result = cli("network", "connect", "--alias", "shop", network, client)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert fetch(server) == PAGE
    aliases = json.loads(cli("inspect", "-f", "{{json .NetworkSettings.Networks}}",
                             client).stdout)[network]["Aliases"]
    assert "shop" in aliases
    twice = cli("network", "connect", network, client)
    assert twice.returncode == 1
    assert twice.stderr == (f"Error response from daemon: endpoint with name {client} already "
                            f"exists in network {network}\n")

    # A network in use cannot go; once its containers have, it can.
    busy = cli("network", "rm", network)
    assert busy.returncode == 1
    assert "has active endpoints" in busy.stderr
    assert cli("rm", "-f", server, client).returncode == 0
    removed = cli("network", "rm", network)
    assert (removed.returncode, removed.stdout) == (0, f"{network}\n"), removed.stderr


def test_network_command_line_errors(cli) -> None:
    prog = cli.name
    result = cli("network")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.startswith(f"Usage:  {prog} network COMMAND\n")
    assert "  ls          List networks\n" in result.stderr
    result = cli("network", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"Usage:  {prog} network COMMAND\n")
    result = cli("network", "frobnicate")
    assert result.returncode == 1
    assert result.stderr == (f"{prog}: unknown command: {prog} network frobnicate\n\n"
                             f"Usage:  {prog} network\n\n"
                             f"Run '{prog} network --help' for more information\n")
    result = cli("network", "create")
    assert result.returncode == 1
    assert result.stderr == (f"{prog}: '{prog} network create' requires 1 argument\n\n"
                             f"Usage:  {prog} network create [OPTIONS] NETWORK\n\n"
                             f"Run '{prog} network create --help' for more information\n")
    result = cli("network", "connect", "x")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{prog}: '{prog} network connect' requires 2 arguments\n")
    result = cli("network", "ls", "-f", "driver")
    assert result.returncode == 125
    assert result.stderr.startswith('invalid argument "driver" for "-f, --filter" flag: '
                                    "bad format of filter (expected name=value)\n")
