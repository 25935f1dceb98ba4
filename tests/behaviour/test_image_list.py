"""`docker images` lists what its filters keep, and refuses a filter it cannot apply.

Every engine starts with busybox:latest (untagged and labelled images are not assumed:
the test reads the list it is given and checks each filter against it).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest


def listed(clients, filters: dict | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    path = "/images/json" + ("?filters=" + quote(json.dumps(filters)) if filters else "")
    reply = clients.api("GET", path)
    assert reply.status == 200, reply.body
    return reply.json()


def tags(images: list[dict]) -> set[str]:
    return {t for i in images for t in i["RepoTags"] or []}


def test_a_name_lists_only_that_repository(clients) -> None:
    result = clients.docker("images", "--format", "{{.Repository}}:{{.Tag}}", "busybox")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["busybox:latest"]
    result = clients.docker("images", "--format", "{{.Repository}}", "wb-nosuch-image")
    assert (result.returncode, result.stdout) == (0, "")
    assert [i.tags for i in clients.py.images.list(name="busybox")] == [["busybox:latest"]]


def test_reference_patterns_are_go_path_patterns(clients) -> None:
    for pattern in ["busy*", "busybox:*", "*box:latest", "b?sybox", "[a-c]usybox"]:
        assert "busybox:latest" in tags(listed(clients, {"reference": [pattern]})), pattern
    for pattern in ["*:nosuch", "bus", "[^b]usybox"]:
        assert "busybox:latest" not in tags(listed(clients, {"reference": [pattern]})), pattern


def test_dangling_label_before_and_since(clients) -> None:
    everything = listed(clients)
    assert "busybox:latest" in tags(everything)
    assert "busybox:latest" not in tags(listed(clients, {"dangling": ["true"]}))
    assert "busybox:latest" in tags(listed(clients, {"dangling": ["false"]}))
    assert "busybox:latest" not in tags(listed(clients, {"label": ["wb-nosuch-label"]}))
    assert "busybox:latest" not in tags(listed(clients, {"before": ["busybox"]}))
    assert "busybox:latest" not in tags(listed(clients, {"since": ["busybox"]}))


def test_until(clients) -> None:
    announced = clients.api("GET", "/_ping").headers["api-version"]
    if tuple(map(int, announced.split("."))) < (1, 44):
        pytest.skip(f"the until filter of /images/json came with API 1.44 ({announced} here)")
    # busybox was made long before now, and after the epoch
    assert "busybox:latest" in tags(listed(clients, {"until": ["1s"]}))
    assert "busybox:latest" not in tags(listed(clients, {"until": ["1"]}))


def test_a_filter_that_cannot_be_applied_is_refused(clients) -> None:
    reply = clients.api("GET", "/images/json?filters=" + quote(json.dumps({"nosuch": ["x"]})))
    # (20.10 spells it "Invalid filter"; Docker 23+ "invalid filter")
    assert reply.status == 400 and reply.message.lower() == "invalid filter 'nosuch'"
    before = quote(json.dumps({"before": ["wb-nosuch"]}))
    reply = clients.api("GET", f"/images/json?filters={before}")
    assert reply.status == 404 and "wb-nosuch" in reply.message
    result = clients.docker("images", "--filter", "nosuch=x")
    assert result.returncode == 1
    assert "invalid filter 'nosuch'" in result.stderr.lower()
