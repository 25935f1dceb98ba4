"""`docker network ls --filter`: moby's filters applied, any other refused."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


def names(clients, *filters: str) -> set[str]:  # type: ignore[no-untyped-def]
    args = ["network", "ls", "--format", "{{.Name}}"]
    for f in filters:
        args += ["--filter", f]
    return set(ok(clients.docker(*args)).split())


def test_network_ls_filters(clients) -> None:
    run = uuid.uuid4().hex[:8]
    used, unused = f"wbnf-{run}-used", f"wbnf-{run}-unused"
    ok(clients.docker("network", "create", "--label", f"wb-nf={run}", used))
    ok(clients.docker("network", "create", unused))
    try:
        name = clients.name()
        ok(clients.docker("run", "-d", "--name", name, "--network", used, "busybox",
                          "sleep", "60"))
        assert names(clients, f"label=wb-nf={run}") == {used}
        assert names(clients, f"name=wbnf-{run}") == {used, unused}  # a regular expression
        assert names(clients, f"name=^wbnf-{run}-u.ed$") == {used}
        assert {"none", "host"} <= names(clients, "type=builtin")
        assert used in names(clients, "type=custom") and "none" not in names(clients,
                                                                              "type=custom")
        assert names(clients, "driver=bridge", f"name=wbnf-{run}") == {used, unused}
        assert names(clients, "driver=null", f"name=wbnf-{run}") == set()
        assert names(clients, "scope=local", f"name=wbnf-{run}") == {used, unused}
        assert names(clients, "scope=swarm", f"name=wbnf-{run}") == set()
        # dangling, as dockerd has it: not predefined, used or not (its list is filtered
        # before the containers are attached; see network_list)
        assert names(clients, "dangling=true", f"name=wbnf-{run}") == {used, unused}
        assert names(clients, "dangling=false", f"name=wbnf-{run}") == set()
        assert "none" not in names(clients, "dangling=true")
        assert {"none", "host"} <= names(clients, "dangling=false")
    finally:
        clients.cleanup()
        clients.names.clear()
        clients.docker("network", "rm", used, unused)


@pytest.mark.parametrize(("filters", "message"), [
    ({"nosuch": ["x"]}, "invalid filter 'nosuch'"),  # 20.10: "Invalid filter"
    ({"dangling": ["maybe"]}, "invalid value for filter 'dangling'"),
    ({"type": ["odd"]}, "invalid filter: 'type'='odd'"),
])
def test_a_filter_it_cannot_read_is_refused(clients, filters: dict, message: str) -> None:
    reply = clients.api("GET", "/networks?filters=" + quote(json.dumps(filters)))
    # (moby lets the type error be a 500)
    assert reply.status in (400, 500)
    assert message in reply.message.lower(), reply.message


def test_inspect_by_scope(clients) -> None:
    net = f"wbnf-{uuid.uuid4().hex[:8]}"
    ok(clients.docker("network", "create", net))
    try:
        assert clients.api("GET", f"/networks/{net}?scope=local").status == 200
        reply = clients.api("GET", f"/networks/{net}?scope=swarm")
        assert (reply.status, reply.message) == (404, f"network {net} not found")
        assert clients.api("GET", f"/networks/{net}?verbose=1").status == 200
    finally:
        clients.docker("network", "rm", net)
