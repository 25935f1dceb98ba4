"""The API surface itself: ping, version, info, versioned paths, error statuses."""

from __future__ import annotations

import pytest

VERSION_KEYS = {"Version", "ApiVersion", "MinAPIVersion", "GitCommit", "GoVersion", "Os", "Arch",
                "KernelVersion", "BuildTime", "Platform", "Components"}
INFO_KEYS = {"Containers", "ContainersRunning", "ContainersStopped", "Images", "Debug", "OSType",
             "DockerRootDir", "ServerVersion", "KernelVersion"}


def api_version(clients) -> str:
    return clients.api("GET", "/_ping").headers["api-version"]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_ping_headers(clients, method: str) -> None:
    reply = clients.api(method, "/_ping")
    assert reply.status == 200
    assert reply.headers["ostype"] == "linux"
    major, minor = reply.headers["api-version"].split(".")
    assert major == "1" and int(minor) >= 24
    assert reply.body == (b"OK" if method == "GET" else b"")


def test_version(cli, clients) -> None:
    version = clients.api("GET", "/version").json()
    assert VERSION_KEYS <= set(version)
    assert version["ApiVersion"] == api_version(clients)
    assert (version["Os"], version["Arch"]) == ("linux", "amd64")
    assert any(c["Name"] == "Engine" for c in version["Components"])
    result = cli("version")
    assert result.returncode == 0, result.stderr
    assert version["Version"] in result.stdout


def test_info_counts_containers(cli, clients) -> None:
    before = clients.api("GET", "/info").json()
    assert INFO_KEYS <= set(before)
    assert before["OSType"] == "linux" and before["Images"] >= 1
    name = clients.name()
    clients.docker("create", "--name", name, "busybox")
    after = clients.py.info()
    assert after["Containers"] == before["Containers"] + 1
    assert after["ContainersStopped"] == before["ContainersStopped"] + 1
    assert cli("info").returncode == 0


def test_versioned_and_unversioned_paths(clients) -> None:
    name = clients.name()
    clients.docker("create", "--name", name, "busybox")
    for prefix in ["", "/v1.24", f"/v{api_version(clients)}"]:
        reply = clients.api("GET", f"{prefix}/containers/json?all=1")
        assert reply.status == 200, prefix
        assert any(c["Names"] == [f"/{name}"] for c in reply.json()), prefix
        assert clients.api("GET", f"{prefix}/version").status == 200, prefix


def test_too_new_api_version_is_400(clients) -> None:
    current = api_version(clients)
    newer = f"1.{int(current.split('.')[1]) + 1}"
    reply = clients.api("GET", f"/v{newer}/version")
    assert reply.status == 400
    assert reply.message == (f"client version {newer} is too new. Maximum supported API "
                             f"version is {current}")


def test_unknown_image_on_create_is_404(clients) -> None:
    before = clients.container_ids()
    reply = clients.api("POST", "/containers/create", {"Image": "nosuch"})
    assert (reply.status, reply.message) == (404, "No such image: nosuch:latest")
    assert clients.container_ids() == before


def test_bad_json_body_is_an_error(clients) -> None:
    before = clients.container_ids()
    reply = clients.api("POST", "/containers/create", "{not json")
    # Docker 20.10 answers 500 with the decoder's message; Docker 23+ answers 400
    assert reply.status in (400, 500)
    assert reply.message
    assert clients.container_ids() == before


@pytest.mark.parametrize(("host_config", "message"), [
    ({"Memory": -5}, "Minimum memory limit allowed is 6MB"),
    ({"Memory": 1024}, "Minimum memory limit allowed is 6MB"),
    ({"RestartPolicy": {"Name": "bogus"}}, "invalid restart policy 'bogus'"),
])
def test_bad_parameter_values_are_400(clients, host_config: dict, message: str) -> None:
    before = clients.container_ids()
    reply = clients.api("POST", "/containers/create", {"Image": "busybox",
                                                       "HostConfig": host_config})
    assert (reply.status, reply.message) == (400, message)
    assert clients.container_ids() == before


def test_failed_run_leaves_no_container(cli, clients) -> None:
    before = clients.container_ids()
    assert cli("run", "--name", "bad!name", "busybox", "true").returncode == 125
    # (a registry on loopback that is not there: the pull fails without leaving the host)
    assert cli("run", "127.0.0.1:9/nosuch").returncode == 125
    assert clients.container_ids() == before
    listed = cli("ps", "-a", "-q").stdout.split()
    assert sorted(listed) == sorted(c[:12] for c in before)
