"""`docker rename`, `docker container prune` and `wait`'s conditions, as dockerd does them.

Rename: the name index (the old name frees, the new one finds the container), moby's
409 when the name is taken, 400 for an invalid name or the same name, and a running
container's user-defined networks answer the new name in DNS. Prune: only stopped
containers, only those its filters allow (every container here carries a label of this
test's own, and every prune is limited to it: nothing else of the engine's is touched).
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

from tests.engines import UnixHTTPConnection


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_rename_moves_the_name(clients) -> None:
    old, new = clients.name(), clients.name()
    cid = ok(clients.docker("create", "--name", old, "busybox", "true")).strip()
    ok(clients.docker("rename", old, new))
    assert clients.inspect(new)["Id"] == cid
    assert clients.inspect(new)["Name"] == f"/{new}"
    assert clients.api("GET", f"/containers/{old}/json").status == 404
    # the old name is free again
    ok(clients.docker("create", "--name", old, "busybox", "true"))
    # docker-py's rename
    other = clients.name()
    clients.py.containers.get(new).rename(other)
    assert clients.inspect(other)["Id"] == cid


def test_rename_refusals(clients) -> None:
    a, b = clients.name(), clients.name()
    ok(clients.docker("create", "--name", a, "busybox", "true"))
    b_id = ok(clients.docker("create", "--name", b, "busybox", "true")).strip()
    taken = clients.api("POST", f"/containers/{a}/rename?name={b}")
    assert taken.status == 409
    assert taken.message == (
        f'Error when allocating new name: Conflict. The container name "/{b}" is already '
        f'in use by container "{b_id}". You have to remove (or rename) that container to '
        "be able to reuse that name.")
    bad = clients.api("POST", f"/containers/{a}/rename?name=" + quote("no good!"))
    assert bad.status == 400
    assert bad.message == ("Error when allocating new name: Invalid container name "
                           "(/no good!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    same = clients.api("POST", f"/containers/{a}/rename?name={a}")
    assert same.status == 400
    assert same.message == "Renaming a container with the same name as its current name"
    empty = clients.api("POST", f"/containers/{a}/rename?name=")
    assert empty.status == 400 and empty.message == "Neither old nor new names may be empty"
    assert clients.api("POST", "/containers/wb-nosuch-x/rename?name=y").status == 404
    assert clients.inspect(a)["Name"] == f"/{a}"  # nothing changed


def test_a_renamed_container_answers_its_new_name_on_its_network(clients) -> None:
    network = f"wbren-{uuid.uuid4().hex[:8]}"
    ok(clients.docker("network", "create", network))
    try:
        old, new = clients.name(), clients.name()
        ok(clients.docker("run", "-d", "--name", old, "--network", network,
                          "busybox", "sleep", "60"))
        ip = clients.inspect(old)["NetworkSettings"]["Networks"][network]["IPAddress"]
        ok(clients.docker("rename", old, new))
        out = ok(clients.docker("run", "--rm", "--network", network, "busybox", "sh", "-c",
                                f"nslookup {new}; echo ---; nslookup {old}; true"))
        found, _, gone = out.partition("---")
        assert f"Address: {ip}" in found, out
        assert ip not in gone, out
    finally:
        clients.cleanup()
        clients.names.clear()
        clients.docker("network", "rm", network)


def test_container_prune_removes_only_stopped_containers_its_filters_allow(clients) -> None:
    mine = f"wb-prune={uuid.uuid4().hex[:8]}"
    stopped, kept, running, other = (clients.name() for _ in range(4))
    stopped_id = ok(clients.docker("create", "--label", mine, "--name", stopped,
                                   "busybox", "true")).strip()
    ok(clients.docker("create", "--label", mine, "--label", "keep=yes", "--name", kept,
                      "busybox", "true"))
    ok(clients.docker("run", "-d", "--label", mine, "--name", running, "busybox", "sleep", "60"))
    ok(clients.docker("create", "--name", other, "busybox", "true"))  # not labelled
    # until: only what was made before the moment; these were made just now
    reply = clients.api("POST", "/containers/prune?filters=" + quote(json.dumps(
        {"label": [mine], "until": ["1h"]})))
    assert reply.status == 200 and reply.json()["ContainersDeleted"] is None
    out = ok(clients.docker("container", "prune", "--force", "--filter", f"label={mine}",
                            "--filter", "label!=keep"))
    assert stopped_id in out and "Total reclaimed space" in out
    for name in (kept, running, other):
        assert clients.api("GET", f"/containers/{name}/json").status == 200
    assert clients.api("GET", f"/containers/{stopped}/json").status == 404
    report = clients.py.containers.prune(filters={"label": mine})
    assert len(report["ContainersDeleted"]) == 1 and "SpaceReclaimed" in report
    assert clients.api("GET", f"/containers/{kept}/json").status == 404
    assert clients.api("GET", f"/containers/{running}/json").status == 200
    bad = clients.api("POST", "/containers/prune?filters=" + quote(json.dumps({"nosuch": ["x"]})))
    assert bad.status == 400 and bad.message.lower() == "invalid filter 'nosuch'"


def test_wait_conditions(clients) -> None:
    name = clients.name()
    ok(clients.docker("create", "--name", name, "busybox", "sh", "-c", "exit 3"))
    # not-running: a created container is not running, so it answers at once
    reply = clients.api("POST", f"/containers/{name}/wait?condition=not-running")
    assert reply.status == 200 and reply.json()["StatusCode"] == 0
    # next-exit and removed: the wait is registered once the headers are back (the
    # docker CLI starts a container only then), so a start after that is seen.
    waits = {}
    for condition in ("next-exit", "removed"):
        conn = UnixHTTPConnection(str(clients.engine.socket), timeout=60)
        conn.request("POST", f"/containers/{name}/wait?condition={condition}")
        waits[condition] = (conn, conn.getresponse())
        assert waits[condition][1].status == 200
    try:
        ok(clients.docker("start", name))
        assert json.loads(waits["next-exit"][1].read())["StatusCode"] == 3
        ok(clients.docker("rm", name))
        assert json.loads(waits["removed"][1].read())["StatusCode"] == 3
    finally:
        for conn, _ in waits.values():
            conn.close()
    bad = clients.api("POST", f"/containers/{clients.name()}/wait?condition=nosuch")
    assert bad.status in (400, 404)


def test_both_clis_rename(cli, clients) -> None:  # type: ignore[no-untyped-def]
    old, new = clients.name(), clients.name()
    ok(clients.docker("create", "--name", old, "busybox", "true"))
    result = cli("rename", old, new)
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert clients.inspect(new)["Name"] == f"/{new}"
    taken = cli("rename", new, new)
    assert taken.returncode == 1
    assert taken.stderr.splitlines() == [
        "Error response from daemon: Renaming a container with the same name as its current "
        "name", f"Error: failed to rename container named {new}"]
