"""Malformed requests beyond a create body's types: deep JSON, filters of the wrong
shape, an image whose config holds no date. Each gets a 400 with a message (or, for the
image, is harmless), never a 500, and breaks nothing for the next request.

dockerd 20.10 (the reference) answers some of these with a 500; ours must answer 400.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest

from tests.behaviour.clients import Clients
from tests.security.hostile import docker_archive
from tests.security.test_api_types import refused


def test_json_nested_beyond_any_parser_is_a_400(clients: Clients) -> None:
    """Python's json gives up near a thousand levels with a RecursionError; Go's decoder
    at ten thousand. Neither is a server error."""
    name = clients.name()
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"Image": "busybox", "Cmd": ["true"], "Labels": {}, "X": ' + deep + "}"
    reply = clients.api("POST", f"/containers/create?name={name}", body)
    assert refused(clients, reply), reply.body[:300]
    assert reply.message
    assert clients.api("GET", f"/containers/{name}/json").status == 404
    assert clients.api("GET", "/_ping").status == 200


@pytest.mark.ours_only(reason="dockerd accepts JSON nested up to 10000 levels")
def test_json_nested_deeper_than_any_request_is_a_400(clients: Clients) -> None:
    name = clients.name()
    body = {"Image": "busybox", "Cmd": ["true"], "X": json.loads("[" * 100 + "]" * 100)}
    reply = clients.api("POST", f"/containers/create?name={name}", body)
    assert reply.status == 400, reply.body[:300]
    assert "nested" in reply.message


def listed(clients: Clients, path: str, filters: object) -> tuple[int, str, list]:
    reply = clients.api("GET", f"{path}?all=1&filters={urllib.parse.quote(json.dumps(filters))}")
    return reply.status, reply.message if reply.status != 200 else "", \
        reply.json() if reply.status == 200 else []


@pytest.mark.parametrize("filters", [
    {"name": "x"}, {"name": 1}, {"name": ["x", 1]}, {"name": {"x": "yes"}}, ["name"], "name",
])
@pytest.mark.parametrize("path", ["/containers/json", "/networks"])
def test_filters_of_the_wrong_shape_are_a_400(clients: Clients, path: str,
                                              filters: object) -> None:
    """moby's filters.FromJSON takes {"name": {"x": true}} or {"name": ["x"]}, nothing else."""
    reply = clients.api("GET", f"{path}?filters={urllib.parse.quote(json.dumps(filters))}")
    assert refused(clients, reply), reply.body
    assert reply.message
    if clients.engine.ours:
        assert reply.message.startswith("invalid filter")


def test_both_forms_of_filters_are_read(clients: Clients) -> None:
    name = clients.name()
    created = clients.api("POST", f"/containers/create?name={name}",
                          {"Image": "busybox", "Cmd": ["true"]})
    assert created.status == 201, created.body
    for filters in ({"name": [name]}, {"name": {name: True}}):
        status, message, found = listed(clients, "/containers/json", filters)
        assert status == 200, message
        assert [c["Names"] for c in found] == [[f"/{name}"]]


def prune_is_refused(clients: Clients, filters: str) -> None:
    images = clients.api("GET", "/images/json").json()
    reply = clients.api("POST", f"/images/prune?filters={urllib.parse.quote(filters, safe='%')}")
    assert refused(clients, reply), reply.body
    assert reply.message
    assert clients.api("GET", "/images/json").json() == images


@pytest.mark.parametrize("filters", [
    "%7Bnot-json", json.dumps({"dangling": "true"}), json.dumps({"dangling": ["maybe"]}),
])
def test_image_prune_filters_are_checked_before_anything_is_pruned(
        clients: Clients, filters: str) -> None:
    prune_is_refused(clients, filters)


@pytest.mark.ours_only(reason="dockerd 20.10 takes dangling=[true false] as false and prunes "
                       "every unused image (moby's later GetBoolOrDefault refuses it)")
def test_image_prune_with_both_dangling_values_is_refused(clients: Clients) -> None:
    prune_is_refused(clients, json.dumps({"dangling": ["true", "false"]}))


@pytest.mark.parametrize("created", ["yesterday", "2020-13-45T99:99:99Z", 1577836800,
                                     "99999-01-01T00:00:00Z"])
def test_an_image_with_no_date_breaks_nothing(hostile: Clients, created: object) -> None:
    """An image config's `created` is the image builder's to write. dockerd refuses a
    config it cannot decode when it is loaded; ours may load it (dated 0, as an image
    without a date), but `docker images` must go on working for every image."""
    tag = "wb-hostile-created:latest"
    archive = docker_archive(tag, [b"\0" * 1024], image={"created": created})
    reply = hostile.api("POST", "/images/load?quiet=1", archive,
                        headers={"Content-Type": "application/x-tar"}, timeout=120)
    assert reply.status < 500 or not hostile.engine.ours, reply.body[:300]
    listing = hostile.api("GET", "/images/json")
    assert listing.status == 200, listing.body[:300]
    done = hostile.docker("images")
    assert done.returncode == 0, done.stderr
    if any(tag in (i.get("RepoTags") or []) for i in listing.json()):
        assert hostile.api("GET", f"/images/{tag}/json").status == 200
        assert hostile.api("GET", f"/images/{tag}/history").status == 200
        done = hostile.docker("image", "ls", "--format", "{{.CreatedSince}}", tag)
        assert done.returncode == 0, done.stderr
