"""Images as a user sees them: list, inspect, tag, remove."""

from __future__ import annotations

import pytest


def test_images_lists_busybox(cli) -> None:
    result = cli("images")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert any(row[:2] == ["busybox", "latest"] for row in rows), result.stdout


def test_image_inspect(clients) -> None:
    image = clients.py.images.get("busybox")
    assert "busybox:latest" in image.tags
    assert image.id.startswith("sha256:")
    assert image.attrs["Config"]["Cmd"] == ["sh"]
    assert image.attrs["Os"] == "linux"
    listed = clients.api("GET", "/images/json").json()
    assert any("busybox:latest" in (i.get("RepoTags") or []) and i["Id"] == image.id
               for i in listed)


def test_unknown_image_is_404(clients) -> None:
    reply = clients.api("GET", "/images/nosuch/json")
    assert reply.status == 404
    assert "No such image: nosuch:latest" in reply.message
    reply = clients.api("DELETE", "/images/nosuch")
    assert (reply.status, reply.message) == (404, "No such image: nosuch:latest")


def test_rmi_of_an_image_in_use_is_409(cli, clients) -> None:
    name = clients.name()
    cid = clients.docker("create", "--name", name, "busybox", "true").stdout.strip()
    image_id = clients.inspect(name)["Image"]
    reply = clients.api("DELETE", "/images/busybox")
    assert reply.status == 409
    assert reply.message == (
        'conflict: unable to remove repository reference "busybox" (must force) - container '
        f"{cid[:12]} is using its referenced image {image_id.removeprefix('sha256:')[:12]}")
    result = cli("rmi", "busybox")
    assert result.returncode == 1
    assert "must force" in result.stderr
    assert "busybox:latest" in clients.py.images.get("busybox").tags


@pytest.fixture
def extra_tag(clients):
    """busybox also tagged wb-extra:v1 (removed afterwards, whatever happens)."""
    clients.py.images.get("busybox").tag("wb-extra", "v1")
    yield "wb-extra:v1"
    clients.api("DELETE", "/images/wb-extra:v1?force=1")


def test_rmi_of_a_second_tag_only_untags(cli, clients, extra_tag: str) -> None:
    name = clients.name()
    clients.docker("create", "--name", name, extra_tag, "true")
    assert clients.py.images.get(extra_tag).id == clients.py.images.get("busybox").id
    result = cli("rmi", extra_tag)
    assert result.returncode == 0, result.stderr
    assert f"Untagged: {extra_tag}" in result.stdout
    assert clients.api("GET", f"/images/{extra_tag}/json").status == 404
    assert clients.api("GET", "/images/busybox/json").status == 200
    assert clients.inspect(name)["Config"]["Image"] == extra_tag  # the container keeps it


def test_rmi_f_of_an_image_in_use_untags_it(cli, clients, extra_tag: str) -> None:
    # with only one tag left on it (busybox is a second name for the same image here, so
    # use the image whose other tag we just made): -f removes the name despite the user
    name = clients.name()
    clients.docker("create", "--name", name, extra_tag, "true")
    assert cli("rmi", "-f", extra_tag).returncode == 0
    assert clients.api("GET", f"/images/{extra_tag}/json").status == 404
    assert clients.inspect(name)["State"]["Status"] == "created"
