"""Listing, naming and inspecting containers."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

ZERO_TIME = "0001-01-01T00:00:00Z"


def created(clients, *command: str) -> tuple[str, str]:
    name = clients.name()
    result = clients.docker("create", "--name", name, "busybox", *command)
    assert result.returncode == 0, result.stderr
    return name, result.stdout.strip()


def running(clients) -> tuple[str, str]:
    name = clients.name()
    result = clients.docker("run", "-d", "--name", name, "busybox", "sleep", "60")
    assert result.returncode == 0, result.stderr
    return name, result.stdout.strip()


def test_ps_shows_running_and_a_shows_all(cli, clients) -> None:
    up, _ = running(clients)
    made, _ = created(clients, "true")
    listed = cli("ps").stdout
    assert up in listed and made not in listed
    listed_all = cli("ps", "-a").stdout
    assert up in listed_all and made in listed_all


def test_ps_q_prints_short_ids(cli, clients) -> None:
    _, up_id = running(clients)
    _, made_id = created(clients, "true")
    quiet = cli("ps", "-a", "-q").stdout.split()
    assert up_id[:12] in quiet and made_id[:12] in quiet
    assert all(re.fullmatch(r"[0-9a-f]{12}", line) for line in quiet)
    assert made_id[:12] not in cli("ps", "-q").stdout.split()


def test_docker_py_list_filters(clients) -> None:
    up, up_id = running(clients)
    made, made_id = created(clients, "true")
    py = clients.py.containers

    def ids(**filters: str) -> set[str]:
        return {c.id for c in py.list(all=True, filters=filters)}

    assert ids(name=up) == {up_id}
    assert ids(id=made_id) == {made_id}
    assert up_id in ids(status="running") and made_id not in ids(status="running")
    assert made_id in ids(status="created") and up_id not in ids(status="created")
    assert {c.id for c in py.list()} >= {up_id}


def test_ps_json_fields(clients) -> None:
    name, cid = running(clients)
    items = clients.api("GET", "/containers/json").json()
    item = next(i for i in items if i["Id"] == cid)
    assert item["Names"] == [f"/{name}"]
    assert item["Image"] == "busybox"
    assert item["ImageID"].startswith("sha256:")
    assert item["Command"] == "sleep 60"
    assert item["State"] == "running" and item["Status"].startswith("Up")
    assert isinstance(item["Created"], int)


def test_duplicate_name_is_a_conflict(cli, clients) -> None:
    name, cid = created(clients, "true")
    message = (f'Conflict. The container name "/{name}" is already in use by container '
               f'"{cid}". You have to remove (or rename) that container to be able to reuse '
               "that name.")
    reply = clients.api("POST", f"/containers/create?name={name}", {"Image": "busybox"})
    assert (reply.status, reply.message) == (409, message)
    result = cli("run", "--name", name, "busybox", "true")
    assert result.returncode == 125
    assert message in result.stderr


@pytest.mark.parametrize("bad", ["x!", "a", "-lead"])
def test_invalid_name_is_400(clients, bad: str) -> None:
    before = clients.container_ids()
    reply = clients.api("POST", f"/containers/create?name={bad}", {"Image": "busybox"})
    assert reply.status == 400
    assert reply.message == (f"Invalid container name ({bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                             "are allowed")
    assert clients.container_ids() == before


def test_inspect_a_created_container(clients) -> None:
    name, cid = created(clients, "sh", "-c", "exit 2")
    info = clients.inspect(name)
    assert info["Id"] == cid and info["Name"] == f"/{name}"
    state = info["State"]
    assert (state["Status"], state["Running"], state["Pid"], state["ExitCode"]) == (
        "created", False, 0, 0)
    assert state["StartedAt"] == ZERO_TIME and state["FinishedAt"] == ZERO_TIME
    assert info["Config"]["Cmd"] == ["sh", "-c", "exit 2"]
    assert info["Config"]["Image"] == "busybox"
    assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in (
        info["Config"]["Env"])
    assert info["HostConfig"]["LogConfig"]["Type"] == "json-file"
    assert info["Image"].startswith("sha256:")


def test_inspect_running_then_exited(cli, clients) -> None:
    name, cid = running(clients)
    state = clients.inspect(name)["State"]
    assert (state["Status"], state["Running"]) == ("running", True)
    assert state["Pid"] > 0
    started = parse_time(state["StartedAt"])
    assert clients.docker("kill", name).returncode == 0
    clients.docker("wait", name)
    state = clients.inspect(name)["State"]
    assert (state["Status"], state["Running"], state["Pid"], state["ExitCode"]) == (
        "exited", False, 0, 137)
    assert parse_time(state["FinishedAt"]) >= started
    # the CLI's inspect prints the same document as a JSON array
    import json

    shown = json.loads(cli("inspect", name).stdout)
    assert shown[0]["Id"] == cid and shown[0]["State"]["ExitCode"] == 137


def test_inspect_by_short_id_and_env(clients) -> None:
    name = clients.name()
    cid = clients.docker("create", "--name", name, "-e", "A=1", "busybox").stdout.strip()
    info = clients.inspect(cid[:12])
    assert info["Id"] == cid
    assert "A=1" in info["Config"]["Env"]
    assert info["Config"]["Cmd"] == ["sh"]  # the image's CMD


def test_unknown_container_is_404(cli, clients) -> None:
    reply = clients.api("GET", "/containers/nosuchthing/json")
    assert (reply.status, reply.message) == (404, "No such container: nosuchthing")
    for method, path in [("GET", "/containers/nosuchthing/json"),
                         ("POST", "/containers/nosuchthing/start"),
                         ("POST", "/containers/nosuchthing/stop"),
                         ("POST", "/containers/nosuchthing/kill"),
                         ("POST", "/containers/nosuchthing/wait"),
                         ("GET", "/containers/nosuchthing/logs?stdout=1"),
                         ("DELETE", "/containers/nosuchthing")]:
        reply = clients.api(method, path)
        assert reply.status == 404, path
        # kill says "Cannot kill container: nosuchthing: No such container: nosuchthing"
        assert reply.message.endswith("No such container: nosuchthing"), path
    result = cli("rm", "nosuchthing")
    assert result.returncode == 1
    assert "No such container: nosuchthing" in result.stderr


def parse_time(text: str) -> datetime:
    # Go prints up to nanoseconds; Python parses up to microseconds
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
