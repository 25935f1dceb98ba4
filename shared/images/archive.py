"""`docker save` and `docker load`: images in and out of the store as one tar file.

Two archive formats exist, and since Docker 25 one tar holds both:

    docker-archive (Docker's own, since 1.10)    OCI image layout (the standard)
    manifest.json  [{Config, RepoTags, Layers}]  oci-layout   {"imageLayoutVersion": "1.0.0"}
    repositories   {repo: {tag: id}}             index.json   manifests, names in annotations
                      ... both point into blobs/sha256/<hex>, the store's own layout ...

`save` writes that combined form, so a Docker 20.10 (which reads manifest.json) and
skopeo or containerd (which read index.json) all accept it. `load` reads either.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from typing import IO, BinaryIO

from shared.images import reference
from shared.images.reference import IMAGE_ID
from shared.images.store import (
    OCI_CONFIG,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Image,
    ImageNotFound,
    ImageStore,
    InvalidImage,
    host_architecture,
)
from shared.images.unpack import GZIP_MAGIC

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
NAME_ANNOTATION = "io.containerd.image.name"  # the full name: docker.io/library/busybox:latest
REF_ANNOTATION = "org.opencontainers.image.ref.name"  # the OCI spec's: just the tag, "latest"


def save(store: ImageStore, refs: list[str], out: BinaryIO) -> None:
    """Write the images `refs` name to `out` as one tar (out may be a pipe or socket)."""
    chosen: dict[str, tuple[Image, list[reference.Reference]]] = {}
    for ref in refs:
        for image, tag in _select(store, ref):
            _, tags = chosen.setdefault(image.id, (image, []))
            if tag is not None and tag not in tags:
                tags.append(tag)

    docker_manifest, oci_manifests, blobs = [], [], []
    repositories: dict[str, dict[str | None, str]] = {}  # {repo: {tag: id}}
    for image, tags in chosen.values():
        manifest = store.manifest(image)
        layers = [layer["digest"] for layer in manifest["layers"]]
        blobs += [image.manifest_digest, image.id, *layers]
        docker_manifest.append(
            {
                "Config": _blob_name(image.id),
                "RepoTags": [t.familiar_string() for t in tags] or None,
                "Layers": [_blob_name(layer) for layer in layers],
            }
        )
        descriptor = {
            "mediaType": manifest.get("mediaType", OCI_MANIFEST),
            "digest": image.manifest_digest,
            "size": os.path.getsize(store.blob_path(image.manifest_digest)),
        }
        for tag in tags:
            annotations = {NAME_ANNOTATION: str(tag), REF_ANNOTATION: tag.tag}
            oci_manifests.append({**descriptor, "annotations": annotations})
            repositories.setdefault(tag.familiar(), {})[tag.tag] = image.id.removeprefix("sha256:")
        if not tags:
            oci_manifests.append(descriptor)

    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": oci_manifests}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        _add_dir(tar, "blobs")
        _add_dir(tar, "blobs/sha256")
        for digest in dict.fromkeys(blobs):  # each blob once, in a stable order
            path = store.blob_path(digest)
            info = _info(_blob_name(digest), os.path.getsize(path))
            with open(path, "rb") as blob:
                tar.addfile(info, blob)
        for name, document in (
            ("index.json", index),
            ("manifest.json", docker_manifest),
            ("oci-layout", {"imageLayoutVersion": "1.0.0"}),
            ("repositories", repositories),
        ):
            data = json.dumps(document, separators=(",", ":")).encode()
            tar.addfile(_info(name, len(data)), io.BytesIO(data))


def _select(store: ImageStore, ref: str) -> list[tuple[Image, reference.Reference | None]]:
    """What `docker save REF` saves: an ID saves the image without names, name:tag that
    tag, and a bare name every tag of that repository."""
    if IMAGE_ID.match(ref) or _is_id_prefix(store, ref):
        return [(store.resolve(ref), None)]
    named = reference.parse_named(ref)
    if named.tag is None and named.digest is None:
        found: list[tuple[Image, reference.Reference | None]] = []
        for image in store.list():
            for tag in image.repo_tags:
                parsed = reference.parse(tag)
                if parsed.name == named.name:
                    found.append((image, parsed))
        if found:
            return found
        raise ImageNotFound(ref)
    image = store.resolve(ref)
    return [(image, named if named.digest is None else None)]


def _is_id_prefix(store: ImageStore, ref: str) -> bool:
    try:
        image = store.resolve(ref)
    except ImageNotFound:
        return False
    return image.id.removeprefix("sha256:").startswith(ref.removeprefix("sha256:"))


def load(store: ImageStore, archive: IO[bytes]) -> list[str]:
    """Add every image in a docker-archive or OCI-layout tar (plain or compressed) to the
    store. Returns what `docker load` prints: each tag loaded ("busybox:latest"), or
    the image ID ("sha256:...") of an image that came without a name."""
    with tempfile.TemporaryFile(dir=store.tmp) as spool:
        if not archive.seekable():  # tarfile needs to seek to read members in any order
            shutil.copyfileobj(archive, spool, 1 << 20)
            spool.seek(0)
            archive = spool
        with tarfile.open(fileobj=archive, mode="r:*") as tar:
            members = {os.path.normpath(m.name): m for m in tar.getmembers()}
            if "index.json" in members:
                return _load_oci(store, tar, members)
            if "manifest.json" in members:
                return _load_docker(store, tar, members)
    raise InvalidImage("invalid archive: neither index.json nor manifest.json found")


def _load_oci(store: ImageStore, tar: tarfile.TarFile, members: dict) -> list[str]:
    index = json.loads(_read(tar, members, "index.json"))
    # Names may be only in manifest.json (a Docker 25 archive whose annotations are lost).
    docker_tags: dict[str, list[str]] = {}
    if "manifest.json" in members:
        for entry in json.loads(_read(tar, members, "manifest.json")):
            config = os.path.basename(entry["Config"]).removesuffix(".json")
            docker_tags["sha256:" + config] = entry.get("RepoTags") or []
    loaded: list[str] = []
    for descriptor in index.get("manifests", []):
        descriptor = _pick_platform(tar, members, descriptor)
        if descriptor is None:
            continue
        manifest = _read(tar, members, _blob_name(descriptor["digest"]))
        parsed = json.loads(manifest)
        config = _read(tar, members, _blob_name(parsed["config"]["digest"]))
        layers = [_open(tar, members, _blob_name(layer["digest"])) for layer in parsed["layers"]]
        annotations = descriptor.get("annotations") or {}
        name = annotations.get(NAME_ANNOTATION) or annotations.get(REF_ANNOTATION, "")
        if ":" in name or "/" in name:  # a bare "latest" names no repository
            tags = [name]
        else:
            tags = docker_tags.get(parsed["config"]["digest"], [])
        image = store.add_image(manifest, config, layers, tags)
        loaded += _loaded_names(image, tags)
    return list(dict.fromkeys(loaded))


def _pick_platform(tar: tarfile.TarFile, members: dict, descriptor: dict) -> dict | None:
    """An index inside the index (a multi-platform image): take this machine's entry."""
    if descriptor.get("mediaType") not in (OCI_INDEX, DOCKER_MANIFEST_LIST):
        return descriptor
    nested = json.loads(_read(tar, members, _blob_name(descriptor["digest"])))
    arch = host_architecture()
    for entry in nested.get("manifests", []):
        wanted = entry.get("platform", {})
        if wanted.get("os") == "linux" and wanted.get("architecture") == arch:
            if _blob_name(entry["digest"]) in members:
                return {**entry, "annotations": descriptor.get("annotations")}
    return None


def _load_docker(store: ImageStore, tar: tarfile.TarFile, members: dict) -> list[str]:
    """docker-archive, as Docker 20.10 writes it: <id>.json configs, <id>/layer.tar
    layers (uncompressed, sometimes symlinks to another image's). There is no registry
    manifest, so one is made, with OCI media types."""
    loaded: list[str] = []
    for entry in json.loads(_read(tar, members, "manifest.json")):
        config = _read(tar, members, entry["Config"])
        descriptors, layer_paths = [], []
        for layer in entry["Layers"]:
            digest = store.put_blob(_open(tar, members, layer))
            with open(store.blob_path(digest), "rb") as blob:
                gzipped = blob.read(2) == GZIP_MAGIC
            descriptors.append(
                {
                    "mediaType": OCI_LAYER_GZIP if gzipped else OCI_LAYER,
                    "digest": digest,
                    "size": os.path.getsize(store.blob_path(digest)),
                }
            )
            layer_paths.append(store.blob_path(digest))
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": _sha256(config), "size": len(config)},
            "layers": descriptors,
        }
        manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
        tags = entry.get("RepoTags") or []
        image = store.add_image(manifest_bytes, config, layer_paths, tags)
        loaded += _loaded_names(image, tags)
    return list(dict.fromkeys(loaded))


def _loaded_names(image: Image, tags: list[str]) -> list[str]:
    return [reference.parse(t).familiar_string() for t in tags] or [image.id]


def _read(tar: tarfile.TarFile, members: dict, name: str) -> bytes:
    return _open(tar, members, name).read()


def _open(tar: tarfile.TarFile, members: dict, name: str) -> BinaryIO:
    member = members.get(os.path.normpath(name))
    stream = tar.extractfile(member) if member is not None else None
    if stream is None:
        raise InvalidImage(f"invalid archive: {name} is missing")
    # typeshed types extractfile() as IO[bytes]; what it returns is an io.BufferedReader,
    # a BinaryIO, which is what the ImageStore takes.
    return stream  # type: ignore[return-value]


def _blob_name(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _info(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.mode, info.mtime = size, kind, 0o644, 0
    if kind == tarfile.DIRTYPE:
        info.mode = 0o755
    return info


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    tar.addfile(_info(name, kind=tarfile.DIRTYPE))
