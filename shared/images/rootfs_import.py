"""`docker import`: an image made of one filesystem tar, and `docker history`.

An imported image has one layer (the tar, as given: plain or gzip) and a config
written here: no command unless `--change 'CMD ["sh"]'` says so, and one history
entry, "Imported from -". `--change` takes a few Dockerfile instructions; those that
only set config fields make sense without a build: CMD, ENTRYPOINT, ENV, WORKDIR,
USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import time
from collections.abc import Sequence
from typing import IO

from shared.errors import InvalidParameter
from shared.images import unpack
from shared.images.store import (
    OCI_CONFIG,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Image,
    ImageStore,
    _unix_time,
    host_architecture,
)
from shared.images.unpack import GZIP_MAGIC

CHANGEABLE = ("CMD", "ENTRYPOINT", "ENV", "WORKDIR", "USER", "LABEL", "EXPOSE", "VOLUME",
              "STOPSIGNAL")


def rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def import_rootfs(
    store: ImageStore,
    tar: IO[bytes],
    tag: str | None = None,
    changes: Sequence[str] = (),
    message: str = "",
    source: str = "-",
) -> Image:
    """Store `tar` as a layer and make an image of it; tag it if asked."""
    config_fields: dict = {}
    for change in changes:
        apply_change(config_fields, change)
    digest = store.put_blob(tar)  # verified by its own digest, renamed into place
    with open(store.blob_path(digest), "rb") as blob:
        gzipped = blob.read(2) == GZIP_MAGIC
    with open(store.blob_path(digest), "rb") as blob:
        diff_id, _ = unpack.scan(unpack.decompressed(blob))  # also: is it a tar at all?
    now = rfc3339(time.time())
    history = {"created": now, "comment": message or f"Imported from {source}"}
    config = {
        "architecture": host_architecture(),
        "os": "linux",
        "created": now,
        "config": config_fields,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [history],
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": _sha256(config_bytes),
                   "size": len(config_bytes)},
        "layers": [{"mediaType": OCI_LAYER_GZIP if gzipped else OCI_LAYER, "digest": digest,
                    "size": os.path.getsize(store.blob_path(digest))}],
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    return store.add_image(manifest_bytes, config_bytes, [store.blob_path(digest)],
                           [tag] if tag else [])


def apply_change(config: dict, change: str) -> None:
    """One `--change` line, e.g. `CMD ["sh"]`, `ENV A=1 B=2`, `WORKDIR /app`."""
    instruction, _, rest = change.strip().partition(" ")
    instruction, rest = instruction.upper(), rest.strip()
    if instruction not in CHANGEABLE:
        raise InvalidParameter(f"{instruction} is not a valid change command")
    if instruction in ("CMD", "ENTRYPOINT"):
        config[instruction.title() if instruction == "CMD" else "Entrypoint"] = _command(rest)
    elif instruction == "ENV":
        env = list(config.get("Env") or [])
        for key, value in _pairs(rest):
            env = [e for e in env if not e.startswith(key + "=")] + [f"{key}={value}"]
        config["Env"] = env
    elif instruction == "LABEL":
        config.setdefault("Labels", {}).update(dict(_pairs(rest)))
    elif instruction == "EXPOSE":
        for port in rest.split():
            config.setdefault("ExposedPorts", {})[port if "/" in port else f"{port}/tcp"] = {}
    elif instruction == "VOLUME":
        paths = json.loads(rest) if rest.startswith("[") else rest.split()
        config.setdefault("Volumes", {}).update({p: {} for p in paths})
    else:
        key = {"WORKDIR": "WorkingDir", "USER": "User", "STOPSIGNAL": "StopSignal"}[instruction]
        config[key] = rest


def _command(text: str) -> list[str]:
    """JSON form `["sh", "-c", "x"]` as is; shell form `echo hi` runs under /bin/sh -c."""
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return ["/bin/sh", "-c", text]


def _pairs(text: str) -> list[tuple[str, str]]:
    """`A=1 B="two words"` -> pairs; the old form `A some value` -> one pair."""
    words = shlex.split(text)
    if words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]
    # A later word without "=" (`A=1 B`) makes a 1-tuple, which the callers' unpacking
    # refuses with a ValueError: mypy is right that this is not always a pair.
    return [tuple(w.split("=", 1)) for w in words]  # type: ignore[misc]


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def history(store: ImageStore, image: Image) -> list[dict]:
    """`GET /images/{name}/history`: one row per history entry, newest first, as
    `docker history` shows them. Entries that made a layer get that layer's size;
    only the newest row has an ID (older steps are not images of their own here)."""
    entries = list(image.config.get("history") or [])
    if not entries:  # no history recorded: one row per layer
        entries = [{"created": image.config.get("created")} for _ in image.layers]
    blobs = [layer["digest"] for layer in store.manifest(image)["layers"]]
    sizes = []
    for digest in blobs:
        with open(store.blob_path(digest), "rb") as blob:
            sizes.append(unpack.scan(unpack.decompressed(blob))[1])
    rows = []
    for entry in reversed(entries):
        size = 0
        if not entry.get("empty_layer") and sizes:
            size = sizes.pop()
        rows.append({
            "Id": "<missing>",
            "Created": _unix(entry.get("created")),
            "CreatedBy": entry.get("created_by", ""),
            "Tags": None,
            "Size": size,
            "Comment": entry.get("comment", ""),
        })
    # A built or committed image's parents are images here too (a build's steps):
    # their rows get their IDs, as `docker history` shows a classic build's steps.
    ancestor: Image | None = image
    while ancestor is not None:
        depth = len(entries) - len(ancestor.config.get("history") or [])
        if 0 <= depth < len(rows):
            rows[depth].update(Id=ancestor.id, Tags=ancestor.repo_tags or None)
        try:
            ancestor = store.get(ancestor.parent) if ancestor.parent else None
        except LookupError:
            ancestor = None
    return rows


def _unix(text: str | None) -> int:
    return _unix_time(text)  # Go's nanosecond timestamps, read
