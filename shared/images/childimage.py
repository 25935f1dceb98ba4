"""A new image on top of another: what `docker commit` and each build step make.

The child is its parent's layers plus (at most) one layer of its own, a config that
says what to run, and the parent's history plus one entry for the step. moby's
image.NewChildImage: a step that changed no file (a build's ENV, or a commit of an
untouched container) adds a history entry marked `empty_layer` and no layer.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

from shared.api.version import VERSION
from shared.images.store import (
    OCI_CONFIG,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Image,
    ImageStore,
)

# A parent pulled with a Docker manifest names its layers Docker's way; the child's
# manifest is an OCI one, which names the same bytes the OCI way.
OCI_TYPE = {
    "application/vnd.docker.image.rootfs.diff.tar.gzip": OCI_LAYER_GZIP,
    "application/vnd.docker.image.rootfs.diff.tar": OCI_LAYER,
}


def go_time(ns: int | None = None) -> str:
    """A timestamp as Go's time.Time marshals one: RFC 3339 with nanoseconds, UTC."""
    ns = time.time_ns() if ns is None else ns
    seconds, frac = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return text + (f".{frac:09d}".rstrip("0") if frac else "") + "Z"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_child(
    store: ImageStore,
    parent: Image | None,
    layer_digest: str | None,
    config: dict,
    *,
    container_config: dict | None = None,
    container_id: str = "",
    author: str = "",
    comment: str = "",
    created_by: str = "",
    tags: list[str] | None = None,
) -> Image:
    """Store the child image of `parent` (None: FROM scratch) and return it.

    layer_digest: an uncompressed layer tar already in the store (put_blob), or None
    for a step that changed no file."""
    base = parent.config if parent is not None else {}
    now = go_time()
    entry: dict = {"created": now}
    if author:
        entry["author"] = author
    if created_by:
        entry["created_by"] = created_by
    if comment:
        entry["comment"] = comment
    if layer_digest is None:
        entry["empty_layer"] = True
    diff_ids = list((base.get("rootfs") or {}).get("diff_ids") or [])
    layers = list(store.manifest(parent)["layers"]) if parent is not None else []
    if layer_digest is not None:
        diff_ids.append(layer_digest)  # uncompressed: its digest is its diff_id
        layers.append({"mediaType": OCI_LAYER, "digest": layer_digest,
                       "size": os.path.getsize(store.blob_path(layer_digest))})
    image_config: dict = {
        "architecture": base.get("architecture") or "amd64",
        "config": config,
        "container": container_id,
        "container_config": container_config or {},
        "created": now,
        "docker_version": VERSION,
        "history": [*(base.get("history") or []), entry],
        "os": base.get("os") or "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    if author:
        image_config["author"] = author
    if comment:
        image_config["comment"] = comment
    if base.get("variant"):
        image_config["variant"] = base["variant"]
    config_bytes = json.dumps(image_config, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": _sha256(config_bytes),
                   "size": len(config_bytes)},
        # Kept as the parent had them (gzip or not): the blobs are already stored.
        "layers": [{"mediaType": OCI_TYPE.get(d["mediaType"], d["mediaType"]),
                    "digest": d["digest"], "size": d["size"]} for d in layers],
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    child = store.add_image(manifest_bytes, config_bytes,
                            [store.blob_path(d["digest"]) for d in layers], tags or [])
    if parent is not None:
        store.set_parent(child.id, parent.id)
        child.parent = parent.id
    return child
