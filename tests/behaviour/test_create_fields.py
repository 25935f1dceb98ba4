"""Never silent: each create field is applied (seen from inside the container) or
refused with a 400 that names the option; nothing is accepted and ignored.

Which field is which is shared/daemon/createfields.py; tests/unit/test_createfields.py
checks that it covers every field of the API. Here: the user's view of both sides.
"""

from __future__ import annotations

import pytest

from shared.daemon import createfields


def run(clients, *args: str) -> str:
    result = clients.docker("run", "--rm", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- applied ----------------------------------------------------------------------


def test_dns_search_and_options_are_written_into_resolv_conf(cli) -> None:
    result = cli("run", "--rm", "--network", "none", "--dns", "192.0.2.53", "--dns",
                 "192.0.2.54", "--dns-search", "example.org", "--dns-search", "corp.example",
                 "--dns-option", "ndots:2", "busybox", "cat", "/etc/resolv.conf")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = [line.split() for line in out.splitlines() if line.strip()]
    assert [w[1] for w in lines if w[0] == "nameserver"] == ["192.0.2.53", "192.0.2.54"]
    assert ["search", "example.org", "corp.example"] in lines
    assert ["options", "ndots:2"] in lines


def test_add_host_is_in_etc_hosts(cli) -> None:
    result = cli("run", "--rm", "--network", "none", "--add-host", "db.internal:192.0.2.7",
                 "--add-host", "v6.internal:2001:db8::7", "busybox", "cat", "/etc/hosts")
    assert result.returncode == 0, result.stderr
    entries = [line.split() for line in result.stdout.splitlines()]
    assert ["192.0.2.7", "db.internal"] in entries
    assert ["2001:db8::7", "v6.internal"] in entries


@pytest.mark.ours_only(reason="the reference runs with --bridge=none: no default "
                       "bridge, so no host-gateway address")
def test_add_host_gateway_names_the_default_bridges_gateway(clients) -> None:
    gateway = clients.api("GET", "/networks/bridge").json()["IPAM"]["Config"][0]["Gateway"]
    out = run(clients, "--add-host", "host.docker.internal:host-gateway", "busybox",
              "grep", "host.docker.internal", "/etc/hosts")
    assert out.split() == [gateway, "host.docker.internal"]


def test_domainname_is_the_uts_namespaces(cli) -> None:
    result = cli("run", "--rm", "--network", "none", "--domainname", "example.test",
                 "busybox", "cat", "/proc/sys/kernel/domainname")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "example.test"


def test_network_disabled_leaves_only_loopback(clients) -> None:
    output = clients.py.containers.run("busybox", ["ls", "/sys/class/net"],
                                       network_disabled=True, remove=True)
    assert output.decode().split() == ["lo"]


def test_masked_paths_of_the_api_replace_dockers(clients) -> None:
    """HostConfig.MaskedPaths (API only, no CLI flag): the list replaces Docker's, so
    the file named is hidden and /proc/kcore, masked by default, is not."""
    name = clients.name()
    reply = clients.api("POST", f"/containers/create?name={name}", {
        "Image": "busybox", "Cmd": ["sh", "-c", "wc -c < /etc/passwd; "
                                    "test -c /proc/kcore || echo kcore-not-masked"],
        "HostConfig": {"MaskedPaths": ["/etc/passwd"], "NetworkMode": "none"}})
    assert reply.status == 201, reply.body
    assert clients.docker("start", "-a", name).stdout.split() == ["0", "kcore-not-masked"]


# --- refused, with the option named --------------------------------------------------


def test_an_unknown_runtime_is_refused(clients) -> None:
    result = clients.docker("run", "--rm", "--runtime", "no-such-runtime", "busybox", "true")
    assert result.returncode == 125
    # dockerd 20.10: "Unknown runtime specified X"; since 23: "unknown or invalid
    # runtime name: X" (ours)
    assert "runtime" in result.stderr.lower() and "no-such-runtime" in result.stderr


def test_add_host_with_a_bad_address_is_refused(clients) -> None:
    reply = clients.api("POST", "/containers/create", {
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"ExtraHosts": ["db:not-an-ip"]}})
    assert reply.status == 400
    assert "invalid IP address in add-host" in reply.message


@pytest.mark.ours_only(reason="refusing what this engine does not apply yet; the "
                       "reference applies each of these")
@pytest.mark.parametrize(("body", "option"), [
    ({"HostConfig": {"StorageOpt": {"size": "1G"}}}, "--storage-opt"),
    ({"HostConfig": {"Links": ["other:alias"]}}, "--link"),
    ({"HostConfig": {"DeviceRequests": [{"Count": -1, "Capabilities": [["gpu"]]}]}},
     "--gpus"),
])
def test_what_is_not_applied_is_refused_by_name(clients, body: dict, option: str) -> None:
    before = clients.container_ids()
    reply = clients.api("POST", "/containers/create",
                        {"Image": "busybox", "Cmd": ["true"], **body})
    assert reply.status == 400, reply.body
    assert reply.message.startswith(f"{option} is not supported by this engine")
    assert clients.container_ids() == before  # nothing half-made


def test_zero_values_are_not_requests(clients) -> None:
    """What a client sends for flags not given (every field at its zero value, as
    docker-py and the CLI fill them in) creates a container."""
    host_config = {key: None for key in createfields.HOST_CONFIG}
    host_config.update({"RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
                        "MemorySwappiness": -1, "ConsoleSize": [0, 0], "Binds": [],
                        "Isolation": "", "NetworkMode": "none"})
    name = clients.name()
    reply = clients.api("POST", f"/containers/create?name={name}", {
        "Image": "busybox", "Cmd": ["true"], "Volumes": {}, "Healthcheck": None,
        "HostConfig": host_config})
    assert reply.status == 201, reply.body
