"""Wrong JSON types in a create request get a 400 with a message, never a 500.

dockerd 20.10 (the reference here) answers most of these with a 500 and the decoder's
message; later dockerd (httputils.ReadJSON) with a 400. Ours must answer 400.
"""

from __future__ import annotations

import pytest

from tests.behaviour.clients import Clients, Response


def refused(clients: Clients, reply: Response) -> bool:
    return reply.status == 400 or (not clients.engine.ours and reply.status == 500)


@pytest.mark.parametrize("fields", [
    {"Env": "A=1"}, {"Labels": ["a"]}, {"HostConfig": "x"}, {"Tty": "yes"},
    {"StopTimeout": "10"}, {"Cmd": {"a": 1}},
])
def test_a_wrong_type_is_a_400(clients: Clients, fields: dict) -> None:
    name = clients.name()
    reply = clients.api("POST", f"/containers/create?name={name}",
                        {"Image": "busybox", "Cmd": ["true"], **fields})
    assert refused(clients, reply), reply.body
    assert reply.message
    assert clients.api("GET", f"/containers/{name}/json").status == 404


def test_a_cmd_string_is_one_word(clients: Clients) -> None:
    name = clients.name()
    reply = clients.api("POST", f"/containers/create?name={name}",
                        {"Image": "busybox", "Cmd": "echo hi"})
    assert reply.status == 201, reply.body
    assert clients.inspect(name)["Config"]["Cmd"] == ["echo hi"]


def test_bad_filters_are_a_400(clients: Clients) -> None:
    reply = clients.api("GET", "/containers/json?filters=%7Bnot-json")
    assert refused(clients, reply), reply.body
    assert reply.message
    if clients.engine.ours:
        assert reply.message.startswith("invalid filter")  # moby's filters.FromJSON


@pytest.mark.parametrize("host_config", [
    {"Memory": "1g"}, {"NanoCpus": 1.5}, {"CpuShares": True}, {"BlkioWeight": 70000},
    {"Privileged": "yes"}, {"CapAdd": 5}, {"Binds": "/:/host"}, {"RestartPolicy": "always"},
    {"RestartPolicy": {"MaximumRetryCount": "3"}}, {"PortBindings": ["80/tcp"]},
    {"PortBindings": {"80/tcp": "8080"}}, {"PortBindings": {"80/tcp": [{"HostPort": 8080}]}},
    {"PortBindings": {"80/tcp": [["8080"]]}}, {"LogConfig": "json-file"},
    {"LogConfig": {"Config": {"max-size": 1000}}}, {"Ulimits": [{"Name": "nofile", "Soft": "x"}]},
    {"Sysctls": {"net.ipv4.ip_forward": 1}}, {"Mounts": [{"Type": 1}]}, {"PidsLimit": 1e3},
])
def test_a_wrong_type_inside_host_config_is_a_400(clients: Clients, host_config: dict) -> None:
    """HostConfig's fields are Go types too (api/types/container/hostconfig.go): dockerd's
    decoder refuses a string Memory or a float NanoCpus before anything is made."""
    name = clients.name()
    reply = clients.api("POST", f"/containers/create?name={name}",
                        {"Image": "busybox", "Cmd": ["true"], "HostConfig": host_config})
    assert refused(clients, reply), reply.body
    assert reply.message
    assert clients.api("GET", f"/containers/{name}/json").status == 404


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_no_number(clients: Clients, number: str) -> None:
    """Python's json reads NaN and Infinity (and 1e999 as one); Go's refuses them."""
    name = clients.name()
    body = '{"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Memory": ' + number + "}}"
    reply = clients.api("POST", f"/containers/create?name={name}", body)
    assert refused(clients, reply), reply.body
    assert reply.message
    assert clients.api("GET", f"/containers/{name}/json").status == 404
