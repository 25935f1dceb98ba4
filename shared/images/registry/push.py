"""`docker push`: the image store's blobs and manifest, up to a registry.

A push is a pull backwards, blobs first and the manifest last, so that a registry
never holds a manifest whose blobs it lacks:

    for each layer, then the config:
        HEAD  /v2/<name>/blobs/<digest>         already there? ("Layer already exists")
        POST  /v2/<name>/blobs/uploads/         no: open an upload
        PATCH <upload location>                 the bytes
        PUT   <upload location>?digest=...      the registry hashes them and checks
    PUT /v2/<name>/manifests/<tag>              the manifest, byte for byte as stored

Pushing the stored manifest's exact bytes keeps its digest: what `docker pull
name@sha256:...` asks for later is what `docker push` printed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests

from shared.errors import NotFound
from shared.images import reference
from shared.images.reference import Reference
from shared.images.registry import progress
from shared.images.registry.auth import Credentials
from shared.images.registry.client import Repository
from shared.images.store import Image, ImageNotFound, ImageStore, Reader

MAX_CONCURRENT_UPLOADS = 5  # dockerd's default --max-concurrent-uploads


class Push:
    """One `docker push NAME[:TAG]`; without a tag, every tag of NAME (Docker 20.10)."""

    def __init__(
        self,
        store: ImageStore,
        name: str,
        tag: str | None,
        credentials: Credentials,
        session: requests.Session | None = None,
    ) -> None:
        self.store = store
        named = reference.parse_named(name)
        if tag:
            named = named.with_tag(tag)
        self.ref = named
        self.images = self._select(named)
        self.repo = Repository(named.registry, named.repository, credentials,
                               ("pull", "push"), session)

    def _select(self, named: Reference) -> list[tuple[str, Image]]:
        """(tag, image) pairs to push; refuses at once if there are none."""
        if named.tag:
            try:
                return [(named.tag, self.store.resolve(str(named)))]
            except ImageNotFound:
                pass
        else:
            found = []
            for image in self.store.list():
                for tag in image.repo_tags:
                    parsed = reference.parse(tag)
                    if parsed.name == named.name:
                        found.append((parsed.tag or "latest", image))
            if found:
                return sorted(found, key=lambda pair: pair[0])
        raise NotFound(f"An image does not exist locally with the tag: {named.familiar()}")

    def run(self, report: progress.Reporter) -> list[tuple[str, str, int]]:
        """Push; return (tag, manifest digest, manifest size) for each tag pushed."""
        self.repo.knock()  # log in before the first upload: a body cannot be re-sent
        report.status(f"The push refers to repository [{self.ref.name.removeprefix('docker.io/')}]",
                      detail=False)
        pushed = []
        for tag, image in self.images:
            manifest = self.store.manifest(image)
            layers = [layer["digest"] for layer in manifest["layers"]]
            for digest in layers:
                report.status("Preparing", progress.short(digest))
            with ThreadPoolExecutor(MAX_CONCURRENT_UPLOADS, "push") as pool:
                list(pool.map(lambda d: self._blob(d, report, True), layers))
            self._blob(image.id, report, False)  # the config
            data = self.store.read_blob(image.manifest_digest)
            media_type = manifest.get("mediaType") or "application/vnd.oci.image.manifest.v1+json"
            self.repo.put_manifest(tag, data, media_type)
            # As Docker: the image now has a digest in that repository (RepoDigests).
            self.store.tag(image, f"{self.ref.name}@{image.manifest_digest}")
            size = len(data)
            report.status(f"{tag}: digest: {image.manifest_digest} size: {size}", detail=False)
            report({"progressDetail": {},
                    "aux": {"Tag": tag, "Digest": image.manifest_digest, "Size": size}})
            pushed.append((tag, image.manifest_digest, size))
        return pushed

    def _blob(self, digest: str, report: progress.Reporter, visible: bool) -> None:
        short = progress.short(digest)
        say: Callable[[str], None] = (lambda text: report.status(text, short)) if visible \
            else (lambda text: None)
        if self.repo.has_blob(digest):
            say("Layer already exists")
            return
        path = self.store.blob_path(digest)
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            body = _Reporting(f, size, (lambda n: report.progress("Pushing", short, n, size))
                              if visible else (lambda n: None))
            self.repo.upload_blob(digest, body)
        say("Pushed")


class _Reporting:
    """A file that reports how much of it has been read. `__len__` lets requests send
    a Content-Length instead of chunked encoding."""

    def __init__(self, f: Reader, size: int, on_read: Callable[[int], None]) -> None:
        self.f, self.size, self.on_read, self.done = f, size, on_read, 0

    def __len__(self) -> int:
        return self.size

    def read(self, n: int = -1) -> bytes:
        piece = self.f.read(n)
        if piece:
            self.done += len(piece)
            self.on_read(self.done)
        return piece
