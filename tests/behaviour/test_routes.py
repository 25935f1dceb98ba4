"""Every route of Docker's API reference answers as a Docker engine would: never "page not found".

dockerd answers a path it does not have with a 404 {"message": "page not found"}. An
engine that speaks API v1.45 must not answer that for any path of the v1.45 reference:
a feature it lacks gets the answer a Docker engine without it gives (swarm, plugins) or
a clear error naming the feature. data/docker_api_v1.45_routes.txt lists the paths
(extracted from moby's swagger; see its header).

Nothing here changes an engine's state: path parameters name things that do not exist,
and requests that would create or delete something (create, pull, build, prune, swarm
init...) are sent in a form every Docker engine refuses (a malformed body or filter, an
invalid reference, a registry on loopback that is not there). ROUTE_REQUESTS says how
for each. Run on the reference too, the list checks itself: a real dockerd has every one
of these routes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROUTES_FILE = Path(__file__).parent / "data" / "docker_api_v1.45_routes.txt"

NOSUCH = "wb-nosuch-0f3a9c"  # the name of nothing, for every path parameter
# A registry on loopback that is not listening: a pull, search, push or login that
# reaches it fails at once, and no request leaves the host.
NOWHERE = f"127.0.0.1:9/{NOSUCH}"
MALFORMED = "{not json"
# A filter no Docker engine can read: a prune refuses it before deleting anything.
BAD_FILTERS = "filters=notjson"
BAD_REFERENCE = "INVALID!!REF"  # refused by reference.ParseNormalizedNamed


def load_routes() -> list[tuple[str, str, str]]:
    routes = []
    for line in ROUTES_FILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            method, path, since = line.split()
            routes.append((method, path, since))
    return routes


@dataclass
class Request:
    query: str = ""
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


# How each route that could change something is asked, so that it does not. Routes not
# listed get no query and no body, and their path parameters are NOSUCH.
ROUTE_REQUESTS: dict[tuple[str, str], Request] = {
    ("POST", "/containers/create"): Request(body=MALFORMED),
    ("POST", "/containers/prune"): Request(query=BAD_FILTERS),
    # An empty build context: no Dockerfile, nothing built.
    ("POST", "/build"): Request(body="", headers={"Content-Type": "application/x-tar"}),
    ("POST", "/build/prune"): Request(query=BAD_FILTERS),
    ("POST", "/images/create"): Request(query=f"fromImage={NOWHERE}&tag=latest"),
    ("GET", "/images/search"): Request(query=f"term={NOWHERE}"),
    ("POST", "/images/prune"): Request(query=BAD_FILTERS),
    ("POST", "/images/{name}/push"): Request(headers={"X-Registry-Auth": "e30="}),
    ("POST", "/images/{name}/tag"): Request(query=f"repo={NOSUCH}-copy&tag=x"),
    ("GET", "/images/get"): Request(query=f"names={NOSUCH}"),
    ("POST", "/images/load"): Request(body="", headers={"Content-Type": "application/x-tar"}),
    ("POST", "/auth"): Request(body='{"serveraddress": "127.0.0.1:9", "username": "u", '
                                    '"password": "p"}'),
    ("POST", "/commit"): Request(query=f"container={NOSUCH}"),
    # Only past events (until: 1 s after the epoch), so the stream ends at once.
    ("GET", "/events"): Request(query="since=0&until=1"),
    ("POST", "/volumes/create"): Request(body=MALFORMED),
    ("POST", "/volumes/prune"): Request(query=BAD_FILTERS),
    ("POST", "/networks/create"): Request(body=MALFORMED),
    ("POST", "/networks/prune"): Request(query=BAD_FILTERS),
    ("GET", "/plugins/privileges"): Request(query=f"remote={BAD_REFERENCE}"),
    ("POST", "/plugins/pull"): Request(query=f"remote={BAD_REFERENCE}"),
    ("POST", "/plugins/create"): Request(query=f"name={BAD_REFERENCE}", body="",
                                         headers={"Content-Type": "application/x-tar"}),
    ("POST", "/plugins/{name}/upgrade"): Request(query=f"remote={BAD_REFERENCE}"),
    ("POST", "/plugins/{name}/enable"): Request(query="timeout=0"),
    ("POST", "/plugins/{name}/set"): Request(body='["DEBUG=1"]'),
    ("POST", "/swarm/init"): Request(body=MALFORMED),
    ("POST", "/swarm/join"): Request(body=MALFORMED),
    ("POST", "/swarm/update"): Request(query="version=1", body=MALFORMED),
    ("POST", "/swarm/unlock"): Request(body='{"UnlockKey": "SWMKEY-1-nosuch"}'),
    ("POST", "/services/create"): Request(body=MALFORMED),
    ("POST", "/secrets/create"): Request(body=MALFORMED),
    ("POST", "/configs/create"): Request(body=MALFORMED),
    ("GET", "/distribution/{name}/json"): Request(),  # name: NOWHERE, see fill()
}


def fill(path: str) -> str:
    """The path with every {parameter} naming something that does not exist."""
    if path == "/distribution/{name}/json":
        return f"/distribution/{NOWHERE}/json"
    if path == "/images/{name}/push":
        return f"/images/{NOWHERE}/push"
    return re.sub(r"\{[^}]+\}", NOSUCH, path)


def is_page_not_found(reply) -> bool:
    if reply.status != 404:
        return False
    try:
        return reply.message == "page not found"
    except ValueError:
        return False


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_the_route_list_is_v1_45() -> None:
    routes = load_routes()
    assert len(routes) == 107
    assert len(set((m, p) for m, p, _ in routes)) == len(routes)
    assert set(ROUTE_REQUESTS) <= {(m, p) for m, p, _ in routes}


def test_no_route_of_the_reference_is_page_not_found(clients) -> None:
    announced = clients.api("GET", "/_ping").headers["api-version"]
    # HEAD answers carry no body, so a 404 there cannot say which 404 it is: ask about
    # a container that exists (this test's own, removed after it).
    name = clients.name()
    assert clients.docker("create", "--name", name, "busybox").returncode == 0
    before = clients.container_ids()
    wrong = []
    for method, template, since in load_routes():
        if version_tuple(since) > version_tuple(announced):
            continue  # an older engine (the reference, 20.10: 1.41) has no such route yet
        how = ROUTE_REQUESTS.get((method, template), Request())
        path = fill(template)
        if method == "HEAD" and "{id}" in template:
            path = template.replace("{id}", name)
            how = Request(query="path=/")
        if how.query:
            path += "?" + how.query
        reply = clients.api(method, path, body=how.body, headers=how.headers, timeout=60)
        if is_page_not_found(reply) or (method == "HEAD" and reply.status == 404):
            wrong.append(f"{method} {path}: {reply.status} {reply.body[:100]!r}")
    assert not wrong, "answered as an unknown path:\n" + "\n".join(wrong)
    assert clients.container_ids() == before


def test_unknown_paths_and_methods_are_page_not_found(clients) -> None:
    # dockerd's router: a path it does not have, or a method a path does not take, is
    # the same 404 (moby api/server/server.go, NotFoundHandler and MethodNotAllowedHandler).
    for method, path in [("GET", f"/{NOSUCH}"), ("GET", "/containers/create"),
                         ("POST", f"/v1.24/{NOSUCH}/json"), ("DELETE", "/swarm")]:
        reply = clients.api(method, path)
        assert (reply.status, reply.message) == (404, "page not found"), (method, path)


EXPERIMENTAL_DISABLED = ("This experimental feature is disabled by default. Start the Docker "
                         "daemon in experimental mode in order to enable it.")
NOT_A_MANAGER = ('This node is not a swarm manager. Use "docker swarm init" or '
                 '"docker swarm join" to connect this node to swarm and try again.')


@pytest.mark.parametrize("path", ["/swarm", "/swarm/unlockkey", "/nodes", f"/nodes/{NOSUCH}",
                                  "/services", f"/services/{NOSUCH}", "/tasks",
                                  f"/tasks/{NOSUCH}", "/secrets", f"/secrets/{NOSUCH}",
                                  "/configs", f"/configs/{NOSUCH}"])
def test_swarm_routes_say_this_node_is_not_a_manager(clients, path: str) -> None:
    reply = clients.api("GET", path)
    assert (reply.status, reply.message) == (503, NOT_A_MANAGER)


def test_swarm_state_is_inactive(clients) -> None:
    swarm = clients.api("GET", "/info").json()["Swarm"]
    assert (swarm["LocalNodeState"], swarm["ControlAvailable"], swarm["NodeID"]) == (
        "inactive", False, "")
    # /_ping's Swarm header came with API 1.44 (Docker 25); 20.10 does not send it.
    assert clients.api("GET", "/_ping").headers.get("swarm", "inactive") == "inactive"
    result = clients.docker("info", "--format", "{{.Swarm.LocalNodeState}}")
    assert (result.returncode, result.stdout.strip()) == (0, "inactive"), result.stderr
    result = clients.docker("node", "ls")
    assert result.returncode == 1
    assert NOT_A_MANAGER in result.stderr


def test_checkpoints_are_experimental(clients) -> None:
    # dockerd has these routes in every build; not started with --experimental (neither
    # engine is), each is moby's 501 (api/server/router/experimental.go).
    for method, path in [("GET", f"/containers/{NOSUCH}/checkpoints"),
                         ("POST", f"/containers/{NOSUCH}/checkpoints"),
                         ("DELETE", f"/containers/{NOSUCH}/checkpoints/{NOSUCH}")]:
        reply = clients.api(method, path)
        assert (reply.status, reply.message) == (501, EXPERIMENTAL_DISABLED), path


def test_leaving_no_swarm(clients) -> None:
    reply = clients.api("POST", "/swarm/leave?force=1")
    assert (reply.status, reply.message) == (503, "This node is not part of a swarm")
    # docker-py's leave_swarm(force=True), which client test set-ups call to start
    # from "no swarm", takes that 503 as done.
    assert clients.py.swarm.leave(force=True) is True
    result = clients.docker("swarm", "leave", "--force")
    assert result.returncode == 1
    assert "This node is not part of a swarm" in result.stderr


def test_no_plugins(clients) -> None:
    reply = clients.api("GET", "/plugins")
    assert (reply.status, reply.json()) == (200, [])
    assert clients.py.plugins.list() == []
    for method, path in [("GET", f"/plugins/{NOSUCH}/json"), ("DELETE", f"/plugins/{NOSUCH}"),
                         ("POST", f"/plugins/{NOSUCH}/disable")]:
        reply = clients.api(method, path)
        assert (reply.status, reply.message) == (404, f'plugin "{NOSUCH}" not found'), path
    result = clients.docker("plugin", "ls", "--format", "{{.Name}}")
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_a_volume_that_does_not_exist(clients) -> None:
    reply = clients.api("GET", "/volumes")
    assert reply.status == 200 and "Volumes" in reply.json()
    assert NOSUCH not in [v["Name"] for v in reply.json()["Volumes"] or []]
    for method in ["GET", "DELETE"]:
        reply = clients.api(method, f"/volumes/{NOSUCH}")
        assert (reply.status, reply.message) == (404, f"get {NOSUCH}: no such volume"), method
    assert clients.api("DELETE", f"/volumes/{NOSUCH}?force=1").status == 204


@pytest.mark.ours_only(reason="a real dockerd has these features; ours answers 501 until "
                       "their issues (17, 18, 19) bring them")
@pytest.mark.parametrize(("method", "path", "feature"), [
    ("POST", "/session", "BuildKit"),
    ("GET", "/images/search?term=busybox", "docker search"),
])
def test_missing_features_are_named(clients, method: str, path: str, feature: str) -> None:
    reply = clients.api(method, path)
    assert reply.status == 501
    assert feature in reply.message and "not supported by this engine" in reply.message


@pytest.mark.ours_only(reason="a real dockerd attaches over a WebSocket")
def test_a_missing_feature_still_says_no_such_container(clients) -> None:
    reply = clients.api("GET", f"/containers/{NOSUCH}/attach/ws")
    assert (reply.status, reply.message) == (404, f"No such container: {NOSUCH}")
    name = clients.name()
    assert clients.docker("create", "--name", name, "busybox").returncode == 0
    reply = clients.api("GET", f"/containers/{name}/attach/ws")
    assert reply.status == 501 and "WebSocket" in reply.message


def test_a_malformed_swarm_request_is_400_before_anything(clients) -> None:
    # moby's swarm router decodes the body before it asks the cluster anything
    for path in ["/swarm/init", "/swarm/join", "/services/create", "/secrets/create"]:
        assert clients.api("POST", path, MALFORMED).status == 400, path


@pytest.mark.ours_only(reason="a real dockerd would create a swarm")
def test_swarm_init_says_swarm_mode_is_not_supported(clients) -> None:
    result = clients.docker("swarm", "init")
    assert result.returncode == 1
    assert "swarm mode is not supported by this engine" in result.stderr
    reply = clients.api("POST", "/swarm/join", {"RemoteAddrs": ["127.0.0.1:9"]})
    assert reply.status == 503 and "cannot create or join a swarm" in reply.message


def test_create_for_another_platform_than_the_images_is_404(clients) -> None:
    # the CLI's `docker run --platform linux/arm64 busybox` asks this first; on the 404
    # it would pull arm64's busybox (not done here: no registry) and try again
    before = clients.container_ids()
    reply = clients.api("POST", "/containers/create?platform=linux/arm64", {"Image": "busybox"})
    assert reply.status == 404
    assert reply.message == ("image with reference busybox was found but does not match the "
                             "specified platform: wanted linux/arm64, actual: linux/amd64")
    assert clients.container_ids() == before
    name = clients.name()
    reply = clients.api("POST", f"/containers/create?name={name}&platform=linux/amd64",
                        {"Image": "busybox"})
    assert reply.status == 201


def test_rm_link_never_removes_the_container(clients) -> None:
    name = clients.name()
    assert clients.docker("create", "--name", name, "busybox").returncode == 0
    result = clients.docker("rm", "--link", name)
    assert result.returncode == 1
    assert "cannot remove the default link name of the container" in result.stderr
    assert clients.inspect(name)["Name"] == f"/{name}"
    reply = clients.api("DELETE", f"/containers/{NOSUCH}?link=1")
    assert reply.status == 404


@pytest.mark.parametrize("path", ["/volumes", "/plugins"])
def test_list_filters_of_other_names_are_refused(clients, path: str) -> None:
    reply = clients.api("GET", path + '?filters={"nosuch":["x"]}'.replace('"', "%22"))
    assert reply.status in (400, 500)  # 20.10: a 500 for /plugins
    assert reply.message.lower() == "invalid filter 'nosuch'"
