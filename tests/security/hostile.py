"""Hostile images, made by the tests and loaded through the API (`POST /images/load`,
a `docker save` archive), so that the reference loads the very same bytes.

    busybox_layer()              a rootfs tar: busybox and its applets, /etc/passwd, /etc/group
    load(clients, tag, *layers)  a loaded image of those layers (removed after the test)
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from functools import cache
from pathlib import Path

from tests.behaviour.clients import Clients
from tests.engines import write_busybox_rootfs


@cache
def busybox_layer() -> bytes:
    """The base every hostile image is stacked on (tests/engines.py's busybox rootfs)."""
    path = Path(f"/tmp/wb-security-busybox-{hashlib.sha256(__file__.encode()).hexdigest()[:8]}.tar")
    if not path.exists():
        partial = path.with_suffix(".part")
        write_busybox_rootfs(partial)
        partial.rename(path)
    return path.read_bytes()


def docker_archive(tag: str, layers: list[bytes], config: dict | None = None,
                   image: dict | None = None) -> bytes:
    """What `docker save` writes for one image: manifest.json, the config, layer tars.
    `config` goes into the image config's `config`, `image` over its top-level keys."""
    diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t in layers]
    image_config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2020-01-02T03:04:05Z",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                   **(config or {})},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        **(image or {}),
    }).encode()
    config_name = hashlib.sha256(image_config).hexdigest() + ".json"
    layer_names = [f"{d.removeprefix('sha256:')}/layer.tar" for d in diff_ids]
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag],
                            "Layers": layer_names}]).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in [("manifest.json", manifest), (config_name, image_config),
                           *zip(layer_names, layers, strict=True)]:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def load(clients: Clients, tag: str, *layers: bytes, config: dict | None = None) -> str:
    """Load an image of busybox plus `layers` as `tag`; return the tag."""
    archive = docker_archive(tag, [busybox_layer(), *layers], config)
    reply = clients.api("POST", "/images/load?quiet=1", archive,
                        headers={"Content-Type": "application/x-tar"}, timeout=120)
    assert reply.status == 200, (reply.status, reply.body[:500])
    return tag

