"""`docker pull`: from a registry into the image store, trusting nothing on the way.

    1. the manifest for the tag (or digest). It may be an *index* (a manifest list):
       one manifest per platform; pick ours and fetch that one, by digest;
    2. the config it names (what to run, and the diff_id of every layer);
    3. the layers, a few at a time, skipping those the store already has;
    4. the store checks every layer's uncompressed sha256 against the config's
       diff_ids, and only then records the image and its names.

Content addressing is what makes a registry trustworthy without trusting it: each
manifest names its blobs by sha256, and a digest names the manifest. So every byte
is hashed as it arrives and compared with the digest that named it. A blob is written
under a temporary name and renamed to its digest only once verified (store.put_blob):
a truncated download, a lying registry or a kill leaves nothing under a real name,
and the next pull starts that blob afresh.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
import urllib3

from shared.errors import EngineError, InvalidParameter, NotFound
from shared.images import reference
from shared.images.reference import Reference
from shared.images.registry import client, progress
from shared.images.registry.auth import Credentials
from shared.images.registry.client import (
    RegistryError,
    Repository,
    as_json,
    iter_raw,
    read_limited,
)
from shared.images.store import (
    DOCKER_MANIFEST,
    OCI_MANIFEST,
    Image,
    ImageNotFound,
    ImageStore,
    InvalidImage,
    host_architecture,
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEXES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
# Every kind we can use, so the registry need not convert (or refuse).
ACCEPT = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST]
MANIFEST_LIMIT = 4 << 20  # containerd's limit: a manifest is a few kB
CONFIG_LIMIT = 8 << 20
MAX_CONCURRENT_DOWNLOADS = 3  # dockerd's default --max-concurrent-downloads


@dataclass(frozen=True)
class Platform:
    """os/architecture[/variant], as `--platform linux/arm64/v8` writes it."""

    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str | None) -> Platform:
        if not text:
            return cls("linux", host_architecture())
        parts = text.lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise InvalidParameter(f'"{text}": unknown operating system or architecture')
        return cls(*parts)

    def matches(self, entry: dict) -> bool:
        """Does an index entry's `platform` fit? Without a variant asked for, any
        variant does; arm64 without one means v8, as in containerd's matcher."""
        if entry.get("os") != self.os or entry.get("architecture") != self.architecture:
            return False
        if not self.variant:
            return True
        variant = entry.get("variant") or ("v8" if self.architecture == "arm64" else "")
        return variant == self.variant

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Pull:
    """One `docker pull`. `resolve()` finds the manifest (its errors are the API's
    4xx answers); `run(report)` fetches the rest, telling `report` how it goes."""

    def __init__(
        self,
        store: ImageStore,
        ref: str | Reference,
        credentials: Credentials,
        platform: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.store = store
        self.ref = ref if isinstance(ref, Reference) else reference.parse(ref)
        self.platform = Platform.parse(platform)
        self.credentials, self.session = credentials, session
        self.repo = Repository(self.ref.registry, self.ref.repository, credentials,
                               ("pull",), session)
        self.manifest_bytes = b""
        self.manifest_digest = ""

    # ---- 1. the manifest ---------------------------------------------------------

    def resolve(self) -> None:
        """From docker.io, daemon.json's registry-mirrors are asked first, in order, as
        dockerd does; any failure of a mirror falls back to the next, then docker.io."""
        if self.ref.registry == reference.DEFAULT_REGISTRY:
            for mirror in client.MIRRORS:
                official = self.repo
                self.repo = Repository(self.ref.registry, self.ref.repository,
                                       self.credentials, ("pull",), self.session,
                                       base=mirror.rstrip("/"))
                try:
                    self._resolve()
                    return
                except (EngineError, requests.RequestException):
                    self.repo = official
        self._resolve()

    def _resolve(self) -> None:
        wanted = self.ref.digest or self.ref.tag or "latest"
        data, media_type = self._fetch_manifest(wanted, self.ref.digest)
        if media_type in INDEXES:
            entry = self._choose(as_json(data, f"index {wanted}"))
            data, media_type = self._fetch_manifest(entry["digest"], entry["digest"])
        if media_type not in (OCI_MANIFEST, DOCKER_MANIFEST):
            raise InvalidImage(f"{self.ref.familiar_string()}: unsupported manifest type "
                               f"{media_type!r} (schema 1 manifests are not supported)")
        self.manifest_bytes, self.manifest_digest = data, sha256(data)

    def _fetch_manifest(self, ref: str, digest: str | None) -> tuple[bytes, str]:
        try:
            reply = self.repo.manifest(ref, ACCEPT, MANIFEST_LIMIT)
        except NotFound:
            raise NotFound(f"manifest for {self.ref.familiar_string()} not found: "
                           "manifest unknown: manifest unknown") from None
        data = read_limited(reply, MANIFEST_LIMIT, f"manifest {ref}")
        actual = sha256(data)
        # By digest, the digest is the proof. By tag, the registry's own claim
        # (Docker-Content-Digest) at least must hold.
        claimed = digest or reply.headers.get("Docker-Content-Digest")
        if claimed and claimed != actual:
            raise InvalidImage(f"manifest {ref}: digest mismatch: expected {claimed}, "
                               f"got {actual}")
        media_type = as_json(data, f"manifest {ref}").get("mediaType") or \
            reply.headers.get("Content-Type", "").split(";")[0]
        return data, media_type

    def _choose(self, index: dict) -> dict:
        """This machine's entry of an index. Entries for `unknown/unknown` are build
        attestations (SBOMs, provenance) stored beside the images, not images."""
        for entry in index.get("manifests") or []:
            wanted = entry.get("platform") or {}
            if wanted.get("os") == "unknown" or wanted.get("architecture") == "unknown":
                continue
            if self.platform.matches(wanted):
                return entry
        raise NotFound(f"no matching manifest for {self.platform} in the manifest list "
                       "entries")

    # ---- 2-4. config, layers, store ------------------------------------------------

    def run(self, report: progress.Reporter) -> Image:
        if not self.manifest_bytes:
            self.resolve()
        ref = self.ref
        # Docker names the repository by its path in the registry: "library/busybox".
        report.status(f"Pulling from {ref.repository}", ref.tag or ref.digest)
        manifest = as_json(self.manifest_bytes, "manifest")
        config_descriptor, layers = manifest["config"], manifest.get("layers") or []
        config = self._small_blob(config_descriptor)

        missing = [d for d in layers if not self.store.has_blob(d["digest"])]
        for descriptor in layers:
            present = descriptor not in missing
            report.status("Already exists" if present else "Pulling fs layer",
                          progress.short(descriptor["digest"]))
        with ThreadPoolExecutor(MAX_CONCURRENT_DOWNLOADS, "pull") as pool:
            # list(): wait for all, and raise the first download's error, if any.
            list(pool.map(lambda d: self._layer(d, report), missing))

        tags = [str(ref)] if ref.digest is None else []
        tags.append(f"{ref.name}@{self.manifest_digest}")
        before = self._current()
        image = self.store.add_image(self.manifest_bytes, config,
                                     [self.store.blob_path(d["digest"]) for d in layers], tags)
        for descriptor in missing:
            report.status("Pull complete", progress.short(descriptor["digest"]))
        report.status(f"Digest: {self.manifest_digest}", detail=False)
        name = ref.familiar_string()
        if before == image.id:
            report.status(f"Status: Image is up to date for {name}", detail=False)
        else:
            report.status(f"Status: Downloaded newer image for {name}", detail=False)
        return image

    def _current(self) -> str | None:
        try:
            return self.store.resolve(str(self.ref)).id
        except ImageNotFound:
            return None

    def _small_blob(self, descriptor: dict) -> bytes:
        digest = descriptor["digest"]
        if self.store.has_blob(digest):
            return self.store.read_blob(digest)
        data = read_limited(self.repo.blob(digest), CONFIG_LIMIT, f"blob {digest}")
        if sha256(data) != digest:
            raise InvalidImage(f"blob {digest}: digest mismatch: got {sha256(data)}")
        return data

    def _layer(self, descriptor: dict, report: progress.Reporter) -> None:
        digest, size = descriptor["digest"], int(descriptor.get("size", 0))
        short = progress.short(digest)
        with _one_download(digest):  # a second pull of this layer waits for the first
            if self.store.has_blob(digest):
                return
            reply = self.repo.blob(digest)
            counted = _Counted(iter_raw(reply), size, digest,
                               lambda n: report.progress("Downloading", short, n, size))
            try:
                self.store.put_blob(counted, digest)  # hashes, checks, renames
            finally:
                reply.close()
        report.status("Download complete", short)


class _Counted:
    """A download as a file for store.put_blob: counts bytes, reports progress, and
    refuses a body longer or shorter than the size the manifest gave."""

    def __init__(self, pieces: Iterator[bytes], size: int, digest: str,
                 on_progress: Callable[[int], None]) -> None:
        self.pieces, self.size, self.digest = pieces, size, digest
        self.on_progress = on_progress
        self.done = 0

    def read(self, _n: int = -1) -> bytes:
        try:
            piece = next(self.pieces, b"")
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as error:
            # urllib3 raises IncompleteRead when fewer bytes came than Content-Length said
            raise self._truncated(type(error).__name__) from None
        self.done += len(piece)
        if self.size and self.done > self.size:
            raise InvalidImage(f"blob {self.digest}: larger than the {self.size} bytes "
                               "the manifest gives")
        if not piece and self.size and self.done < self.size:
            raise self._truncated("connection closed early")
        if piece:
            self.on_progress(self.done)
        return piece

    def _truncated(self, why: str) -> RegistryError:
        return RegistryError(f"blob {self.digest}: download truncated after {self.done} of "
                             f"{self.size} bytes: {why}")


_downloads: dict[str, threading.Lock] = {}
_downloads_lock = threading.Lock()


class _one_download:  # noqa: N801 - used as a context manager, named like one
    """Within one daemon, one download per blob at a time: a second pull of the same
    image waits, then finds the blob stored. (Between daemons the rename in put_blob
    is what keeps two downloads of a blob safe: both write, one rename wins.)"""

    def __init__(self, digest: str) -> None:
        with _downloads_lock:
            self.lock = _downloads.setdefault(digest, threading.Lock())

    def __enter__(self) -> None:
        self.lock.acquire()

    def __exit__(self, *_: object) -> None:
        self.lock.release()
