"""Names, references and bodies a client sends: malformed ones get a 400 (or a 413),
never a 500, never a half-made object.
"""

from __future__ import annotations

import pytest

from tests.behaviour.clients import Clients
from tests.images.tarballs import Entry, layer
from tests.security.hostile import load


def test_a_name_with_a_trailing_newline_is_refused(clients: Clients) -> None:
    """Python's `$` matches before a final newline; Go's (dockerd's) does not."""
    name = clients.name()
    reply = clients.api("POST", f"/containers/create?name={name}%0A",
                        {"Image": "busybox", "Cmd": ["true"]})
    assert reply.status == 400, reply.body
    assert "Invalid container name" in reply.message
    assert clients.api("GET", f"/containers/{name}/json").status == 404


@pytest.mark.parametrize("ref", ["busybox%0A", "busybox:latest%0A"])
def test_a_reference_with_a_trailing_newline_is_not_an_image(clients: Clients, ref: str) -> None:
    reply = clients.api("POST", "/images/busybox/tag?repo=wb-newline&tag=x%0A")
    # dockerd 20.10 answers "invalid tag format" with a 500, its bug; ours is a 400.
    assert reply.status == 400 or (not clients.engine.ours and reply.status == 500), reply.body
    assert "invalid tag format" in reply.message
    reply = clients.api("GET", f"/images/{ref}/json")
    assert reply.status in (400, 404), reply.body  # dockerd: 404 No such image


@pytest.mark.ours_only(reason="dockerd sets no limit on JSON bodies")
def test_a_json_body_has_a_size_limit(clients: Clients) -> None:
    big = {"Image": "busybox", "Cmd": ["true"], "Labels": {"x": "y" * (5 << 20)}}
    reply = clients.api("POST", f"/containers/create?name={clients.name()}", big)
    assert reply.status == 413, reply.body[:300]
    assert "exceeds" in reply.message


def test_a_tar_body_has_none(hostile: Clients) -> None:
    """/images/load's body is a tar of any size: the JSON limit is not on it."""
    blob = bytes(range(256)) * (6 << 12)  # 6 MiB, more than the JSON limit
    image = load(hostile, "wb-hostile-inputs:big", layer(Entry("big", data=blob)))
    done = hostile.docker("run", "--rm", image, "wc", "-c", "/big", timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == str(len(blob))
