"""`--mac-address`: the container's interface has the address asked for, seen from
inside (/sys/class/net/eth0/address), or the request is refused in dockerd's words.

On a user-defined network, which the reference has too (its default bridge does not
exist: --bridge=none). docker-py sends the container-wide Config.MacAddress, which
dockerd moves to the endpoint of the container's network; the docker CLI 28 sends the
endpoint's own (API 1.44), which the reference dockerd 20.10 (API 1.41) cannot take.
"""

from __future__ import annotations

import uuid

import pytest

MAC = "02:42:ac:11:00:99"


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def network(clients):  # type: ignore[no-untyped-def]
    name = f"wbmac-{uuid.uuid4().hex[:8]}"
    ok(clients.docker("network", "create", name))
    yield name
    clients.cleanup()
    clients.names.clear()
    clients.docker("network", "rm", name)


def test_docker_py_mac_address_is_the_interfaces(clients, network: str) -> None:
    name = clients.name()
    out = clients.py.containers.run("busybox", "cat /sys/class/net/eth0/address",
                                    name=name, network=network, mac_address=MAC.upper())
    assert out == f"{MAC}\n".encode()


def test_our_cli_mac_address(clients, network: str) -> None:
    out = ok(clients.ours("run", "--rm", "--network", network, "--mac-address",
                          "02-42-ac-11-00-98", "busybox", "cat", "/sys/class/net/eth0/address"))
    assert out == "02:42:ac:11:00:98\n"


@pytest.mark.ours_only(reason="the docker CLI 28 sends --mac-address per network, which "
                       "needs API 1.44; the reference dockerd 20.10 speaks 1.41")
def test_docker_cli_mac_address_survives_a_restart(clients, network: str) -> None:
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "--network", network, "--mac-address",
                      MAC, "busybox", "sleep", "60"))
    assert ok(clients.docker("exec", name, "cat", "/sys/class/net/eth0/address")) == f"{MAC}\n"
    assert clients.inspect(name)["NetworkSettings"]["Networks"][network]["MacAddress"] == MAC
    ok(clients.docker("restart", "-t", "0", name))
    assert ok(clients.docker("exec", name, "cat", "/sys/class/net/eth0/address")) == f"{MAC}\n"


def test_an_invalid_mac_is_refused_by_the_cli(cli) -> None:
    result = cli("run", "--rm", "--mac-address", "02:42:ac:11:00", "busybox", "true")
    assert result.returncode == 125
    assert "02:42:ac:11:00 is not a valid mac address" in result.stderr


NONE_SINCE_25 = pytest.mark.ours_only(
    reason="dockerd 20.10 accepted a MAC with --network none and ignored it; since 25 "
    "it refuses it as for host (handleMACAddressBC), as this engine does")


@pytest.mark.parametrize("mode", ["host", pytest.param("none", marks=NONE_SINCE_25),
                                  "container:"])
def test_no_mac_without_an_interface_of_its_own(clients, mode: str) -> None:
    if mode == "container:":
        other = clients.name()
        ok(clients.docker("run", "-d", "--name", other, "--network", "none", "busybox",
                          "sleep", "60"))
        mode += other
    reply = clients.api("POST", "/containers/create", {
        "Image": "busybox", "MacAddress": MAC, "HostConfig": {"NetworkMode": mode}})
    assert (reply.status, reply.message) == (
        400, "conflicting options: mac-address and the network mode")


def test_an_invalid_mac_never_runs(clients, network: str) -> None:
    name = clients.name()
    reply = clients.api("POST", f"/containers/create?name={name}", {
        "Image": "busybox", "Cmd": ["true"], "MacAddress": "02:42:zz:11:00:99",
        "HostConfig": {"NetworkMode": network}})
    if reply.status == 201:
        # dockerd 20.10 finds it only at start; later ones (and this engine) at create
        reply = clients.api("POST", f"/containers/{name}/start")
    assert reply.status in (400, 500)
    assert "02:42:zz:11:00:99" in reply.message


@pytest.mark.ours_only(reason="the default bridge (the reference runs --bridge=none), and "
                       "the docker CLI 28's per-network --mac-address (API 1.44)")
def test_docker_cli_on_the_default_bridge(clients) -> None:
    out = ok(clients.docker("run", "--rm", "--mac-address", MAC, "busybox",
                            "cat", "/sys/class/net/eth0/address"))
    assert out == f"{MAC}\n"
    host = clients.docker("run", "--rm", "--network", "host", "--mac-address", MAC,
                          "busybox", "true")
    assert host.returncode == 125
    assert "conflicting options: mac-address and the network mode" in host.stderr
