"""`docker ps -s` and `docker inspect --size`: what the container wrote, and its whole
filesystem's size."""

from __future__ import annotations

import json
from urllib.parse import quote


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_written_size(clients) -> None:
    name = clients.name()
    ok(clients.docker("run", "--name", name, "busybox", "sh", "-c",
                      "dd if=/dev/zero of=/big bs=1000 count=100 2>/dev/null && "
                      "ln /big /big-again && mkdir /empty-dir"))
    image_size = clients.api("GET", "/images/busybox/json").json()["Size"]
    found = clients.api("GET", f"/containers/{name}/json?size=1").json()
    # the file once (a hard link is not counted again), no directory
    assert (found["SizeRw"], found["SizeRootFs"]) == (100000, image_size + 100000)
    query = quote(json.dumps({"name": [name]}))
    listed = clients.api("GET", f"/containers/json?all=1&size=1&filters={query}").json()
    assert [(c["SizeRw"], c["SizeRootFs"]) for c in listed] == [(100000, image_size + 100000)]
    assert "SizeRw" not in clients.api("GET", f"/containers/{name}/json").json()
    shown = ok(clients.docker("ps", "-a", "-s", "--filter", f"name={name}",
                              "--format", "{{.Size}}")).strip()
    assert shown.startswith("100kB (virtual "), shown
