"""The image store every stage shares: content-addressed blobs, names, unpacked layers.

    <root>/blobs/sha256/<hex>    manifests, configs and layer tars, named by their sha256
    <root>/images.json           which images exist and which names point at them
    <root>/layers/<chainid>/     each layer unpacked, ready to be an overlayfs lowerdir
    <root>/tmp/                  where every file is written before it is renamed

An image is its manifest (a list of blobs), its config (what to run, and the diff_ids:
the sha256 of each *uncompressed* layer) and its layers. As in Docker, the image ID is
the digest of the config, so the same image pulled with gzip or loaded uncompressed has
one ID.

Crash safety comes from rename(2), which replaces a name atomically within one
filesystem: blobs are written and verified under a temporary name first, layers are
unpacked into a temporary directory, and images.json is rewritten whole, under a lock
file (flock) so two daemons, or two threads, never interleave their updates.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol

from shared.errors import Conflict, InvalidParameter, NotFound
from shared.images import reference, unpack
from shared.images.reference import IMAGE_ID, InvalidReference, Reference
from shared.privatedirs import LAYERS, make_private_dir

DEFAULT_ROOT = "/var/lib/whalebones/images"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

UNIX_EPOCH = "1970-01-01T00:00:00Z"

GOARCH = {  # what uname calls a machine -> what images call it (Go's GOARCH names)
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}

# The Config object `docker image inspect` shows: Docker's container config, of which
# an image config sets only some fields.
DOCKER_CONFIG_DEFAULTS: dict = {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": False,
    "AttachStdout": False,
    "AttachStderr": False,
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "Env": None,
    "Cmd": None,
    "Image": "",
    "Volumes": None,
    "WorkingDir": "",
    "Entrypoint": None,
    "OnBuild": None,
    "Labels": None,
}


class Reader(Protocol):
    """What a blob is read from as it arrives: a file, or a stream that counts what is
    read (a pull's progress) or checks it (its size)."""

    def read(self, n: int = -1, /) -> bytes: ...


class ImageNotFound(NotFound, LookupError):
    """`No such image: busybox:latest` (HTTP 404), naming the image as Docker does."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"No such image: {_display(ref)}")


class ImageConflict(Conflict):
    """The image cannot be removed as asked (HTTP 409); the message is Docker's."""


class InvalidImage(InvalidParameter):
    """A manifest, config or blob that does not hold together (bad digest, wrong count)."""


@dataclass
class Image:
    id: str  # sha256:<config digest>
    manifest_digest: str
    repo_tags: list[str]  # familiar: "busybox:latest"
    repo_digests: list[str]  # familiar: "busybox@sha256:..."
    created: int  # unix seconds
    size: int  # sum of the layers' uncompressed file sizes
    config: dict  # the image config JSON; config["config"] holds Cmd, Env...
    layers: list[str]  # diff_ids, lowest first
    architecture: str
    os: str
    parent: str = ""  # the image it was built or committed on (moby's SetParent)

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


class ImageStore:
    def __init__(self, root: str = DEFAULT_ROOT) -> None:
        self.root = root
        self.blobs = os.path.join(root, "blobs", "sha256")
        self.layers = os.path.join(root, "layers")
        self.tmp = os.path.join(root, "tmp")
        self.locks = os.path.join(root, "locks")
        self.index_path = os.path.join(root, "images.json")
        make_private_dir(root)  # modes: shared/privatedirs.py
        for path in (self.blobs, self.tmp, self.locks):
            make_private_dir(path)
        make_private_dir(self.layers, LAYERS)
        self._json_cache: dict[str, dict] = {}  # blobs never change: parse each once

    # ---- blobs -------------------------------------------------------------------

    def blob_path(self, digest: str) -> str:
        algorithm, _, hexpart = digest.partition(":")
        if algorithm != "sha256" or not re.fullmatch(r"[a-f0-9]{64}", hexpart):
            raise InvalidImage(f"unsupported digest {digest!r}")
        return os.path.join(self.blobs, hexpart)

    def has_blob(self, digest: str) -> bool:
        return os.path.exists(self.blob_path(digest))

    def put_blob(self, data: bytes | str | Reader, expected: str | None = None) -> str:
        """Store bytes, a file (by path) or a stream; return its digest.

        With `expected`, a blob already present is not read again, and content whose
        sha256 differs is refused. Nothing is ever visible under a blob's final name
        before all of it is written, synced and verified."""
        if expected is not None and self.has_blob(expected):
            return expected
        if isinstance(data, str):
            with open(data, "rb") as stream:
                return self.put_blob(stream, expected)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=self.tmp, prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes):
                    digest.update(data)
                    out.write(data)
                else:
                    while chunk := data.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            actual = "sha256:" + digest.hexdigest()
            if expected is not None and actual != expected:
                raise InvalidImage(f"blob digest mismatch: expected {expected}, got {actual}")
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.blob_path(actual))
            return actual
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def read_blob(self, digest: str) -> bytes:
        with open(self.blob_path(digest), "rb") as f:
            return f.read()

    def _json_blob(self, digest: str) -> dict:
        if digest not in self._json_cache:
            self._json_cache[digest] = json.loads(self.read_blob(digest))
        return self._json_cache[digest]

    # ---- adding images -------------------------------------------------------------

    def add_image(
        self,
        manifest: bytes,
        config: bytes,
        layers: Iterable[str | BinaryIO],
        tags: Iterable[str] = (),
    ) -> Image:
        """Add an image from its manifest, config and layer blobs (paths or streams, in
        the manifest's order), checking every digest; then point `tags` at it.

        Adding an image that is already here only adds the tags."""
        parsed = json.loads(manifest)
        if parsed.get("schemaVersion") != 2 or parsed.get("mediaType", OCI_MANIFEST) not in (
            OCI_MANIFEST,
            DOCKER_MANIFEST,
        ):
            raise InvalidImage(f"unsupported manifest type {parsed.get('mediaType')!r}")
        image_config = json.loads(config)
        diff_ids = image_config.get("rootfs", {}).get("diff_ids", [])
        descriptors = parsed.get("layers", [])
        layers = list(layers)
        if not (len(layers) == len(descriptors) == len(diff_ids)):
            raise InvalidImage(
                f"{len(descriptors)} layers in the manifest, {len(diff_ids)} diff_ids "
                f"in the config, {len(layers)} layer blobs given"
            )
        tag_refs = [reference.parse(tag) for tag in tags]  # refuse bad names before work
        manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        for ref in tag_refs:
            if ref.digest is not None and ref.digest != manifest_digest:
                raise InvalidReference(f"{ref.familiar_string()} does not name this manifest")

        layer_sizes = []
        for descriptor, blob, diff_id in zip(descriptors, layers, diff_ids, strict=True):
            digest = self.put_blob(blob, descriptor["digest"])
            with open(self.blob_path(digest), "rb") as stream:
                actual, size = unpack.scan(unpack.decompressed(stream))
            if actual != diff_id:
                raise InvalidImage(
                    f"layer {digest}: diff_id is {actual}, the config says {diff_id}"
                )
            layer_sizes.append(size)
        image_id = self.put_blob(config, parsed["config"]["digest"])
        self.put_blob(manifest, manifest_digest)

        with self._update_index() as index:
            index["manifests"][manifest_digest] = image_id
            index["images"].setdefault(image_id, {"added": int(time.time())})
            index["images"][image_id].update(manifest=manifest_digest, size=sum(layer_sizes))
            for ref in tag_refs:
                index["refs"][str(ref)] = manifest_digest
        return self.get(image_id)

    # ---- finding images --------------------------------------------------------------

    def get(self, image_id: str) -> Image:
        index = self._read_index()
        if image_id not in index["images"]:
            raise ImageNotFound(image_id)
        return self._image(index, image_id)

    def resolve(self, ref: str) -> Image:
        """The image a user means by `ref`, as Docker reads it: a name (busybox,
        busybox:1.36, name@sha256:...), a full image ID, or a unique prefix of one."""
        index = self._read_index()
        image_id = self._find(index, ref)
        if image_id is None:
            raise ImageNotFound(ref)
        return self._image(index, image_id)

    # (Below this method, the class's own `list` hides the builtin: annotations say
    # builtins.list.)
    def list(self) -> list[Image]:
        """Every image, newest first, as `GET /images/json` orders them."""
        index = self._read_index()
        images = [self._image(index, image_id) for image_id in index["images"]]
        return sorted(images, key=lambda image: image.created, reverse=True)

    def _find(self, index: dict, ref: str) -> str | None:
        match = IMAGE_ID.match(ref)
        if match:
            image_id = "sha256:" + match.group(1)
            return image_id if image_id in index["images"] else None
        named = reference.parse(ref)  # InvalidReference (400) for a bad name
        manifest = index["refs"].get(str(named))
        if manifest is not None:
            return index["manifests"][manifest]
        # Not a name we know: maybe a short ID (`docker run 1a2b3c`).
        prefix = ref.removeprefix("sha256:")
        if re.fullmatch(r"[a-f0-9]+", prefix):
            found = [i for i in index["images"] if i.removeprefix("sha256:").startswith(prefix)]
            if len(found) == 1:
                return found[0]
        return None

    def _image(self, index: dict, image_id: str) -> Image:
        record = index["images"][image_id]
        manifests = {m for m, i in index["manifests"].items() if i == image_id}
        tags: builtins.list[str] = []
        digests: builtins.list[str] = []
        for key, manifest in index["refs"].items():
            if manifest in manifests:
                ref = reference.parse(key)
                (digests if ref.digest else tags).append(ref.familiar_string())
        config = self._json_blob(image_id)
        return Image(
            id=image_id,
            manifest_digest=record["manifest"],
            repo_tags=sorted(tags),
            repo_digests=sorted(digests),
            created=_unix_time(config.get("created")),
            size=record["size"],
            config=config,
            layers=list(config.get("rootfs", {}).get("diff_ids", [])),
            architecture=config.get("architecture", ""),
            os=config.get("os", ""),
            parent=record.get("parent", ""),
        )

    def set_parent(self, image_id: str, parent_id: str) -> None:
        """Remember which image `image_id` was made on: a build's steps are each
        other's parents, which hides them from `docker images` and lets `docker rmi`
        of the last remove the untagged steps below it."""
        with self._update_index() as index:
            if image_id in index["images"] and parent_id in index["images"]:
                index["images"][image_id]["parent"] = parent_id

    def children(self) -> dict[str, builtins.list[str]]:
        """parent image ID -> the IDs of the images made on it."""
        found: dict[str, builtins.list[str]] = {}
        for image_id, record in self._read_index()["images"].items():
            if record.get("parent"):
                found.setdefault(record["parent"], []).append(image_id)
        return found

    def manifest(self, image: Image) -> dict:
        return self._json_blob(image.manifest_digest)

    # ---- names -----------------------------------------------------------------------

    def tag(self, image: Image | str, ref: str) -> None:
        """Point a name at an image (moving it from any other image, as `docker tag`).

        A digest reference (name@sha256:...) may be recorded only for one of the
        image's own manifests: that is how a pull remembers `RepoDigests`."""
        if isinstance(image, str):
            image = self.resolve(image)
        named = reference.parse(ref)
        with self._update_index() as index:
            if image.id not in index["images"]:
                raise ImageNotFound(image.id)
            manifest = index["images"][image.id]["manifest"]
            if named.digest is not None:
                if index["manifests"].get(named.digest) != image.id:
                    raise InvalidReference("refusing to create a tag with a digest reference")
                manifest = named.digest
            index["refs"][str(named)] = manifest

    def untag(self, ref: str) -> str:
        """Remove one name; return it in familiar form ("busybox:latest")."""
        named = reference.parse(ref)
        with self._update_index() as index:
            if index["refs"].pop(str(named), None) is None:
                raise ImageNotFound(ref)
        return named.familiar_string()

    def delete(
        self,
        ref: str,
        force: bool = False,
        in_use: Callable[[str], str | None] | None = None,
    ) -> builtins.list[dict[str, str]]:
        """`docker rmi`: untag, and delete the image when no name is left.

        in_use(image_id) returns the ID of a container using the image, or None.
        Returns Docker's records: [{"Untagged": "busybox:latest"}, {"Deleted": "sha256:..."}].
        The rules are those of Docker 20.10's daemon/images/image_delete.go."""
        image = self.resolve(ref)
        user = in_use(image.id) if in_use else None
        records: builtins.list[dict[str, str]] = []
        refs = self._refs_of(image.id)
        by_id = not _is_name(ref, image.id)

        if not by_id:
            named = reference.parse(ref)
            if not force and user and _single_reference(refs):
                raise ImageConflict(
                    f'conflict: unable to remove repository reference "{ref}" (must force) - '
                    f"container {user[:12]} is using its referenced image {image.short_id}"
                )
            records.append({"Untagged": self.untag(ref)})
            refs = self._refs_of(image.id)
            if named.digest is None and not any(
                r.digest is None and r.name == named.name for r in refs
            ):
                # The last tag of a repository takes that repository's digests along.
                for r in [r for r in refs if r.digest is not None and r.name == named.name]:
                    records.append({"Untagged": self.untag(str(r))})
                refs = self._refs_of(image.id)
            if refs:
                return records
        elif _single_reference(refs):
            if not force and user:
                raise _delete_conflict(
                    image, f"image is being used by stopped container {user[:12]}"
                )
            for r in refs:
                records.append({"Untagged": self.untag(str(r))})
            refs = []

        if not force:
            if refs:
                raise _delete_conflict(image, "image is referenced in multiple repositories")
            if user:
                raise _delete_conflict(
                    image, f"image is being used by stopped container {user[:12]}"
                )
        for r in refs:
            records.append({"Untagged": self.untag(str(r))})
        if user:
            # Docker would delete the image record and keep its layers for the container;
            # here the image stays, nameless, until it is removed after its containers.
            return records
        records.append({"Deleted": image.id})
        records.extend({"Deleted": chain} for chain in self._remove_image(image.id))
        records.extend(self._prune_parents(image.parent, in_use))
        return records

    def _prune_parents(self, parent: str, in_use: Callable[[str], str | None] | None
                       ) -> builtins.list[dict[str, str]]:
        """moby's imageDeleteHelper without noprune: an untagged parent left with no
        child (a build's intermediate step) goes too, and so on down."""
        records: builtins.list[dict[str, str]] = []
        while parent:
            try:
                image = self.get(parent)
            except ImageNotFound:
                break
            if (image.repo_tags or image.repo_digests or self.children().get(parent)
                    or (in_use and in_use(parent))):
                break
            records.append({"Deleted": image.id})
            records.extend({"Deleted": chain} for chain in self._remove_image(image.id))
            parent = image.parent
        return records

    def _refs_of(self, image_id: str) -> builtins.list[Reference]:
        index = self._read_index()
        return [
            reference.parse(key)
            for key, manifest in index["refs"].items()
            if index["manifests"].get(manifest) == image_id
        ]

    def _remove_image(self, image_id: str) -> builtins.list[str]:
        """Forget an image, then delete the blobs and layer dirs no other image uses.

        The index is written first: a crash in between leaves unused files (garbage),
        never a name pointing at a missing blob. Returns the chain IDs released."""
        with self._update_index() as index:
            index["images"].pop(image_id, None)
            gone = [m for m, i in index["manifests"].items() if i == image_id]
            for manifest in gone:
                del index["manifests"][manifest]
            index["refs"] = {k: m for k, m in index["refs"].items() if m not in gone}
            kept_blobs, kept_chains = set(), set()
            for manifest, other in index["manifests"].items():
                kept_blobs |= set(self._blobs_of(manifest)) | {manifest, other}
                kept_chains |= set(chain_ids(self._json_blob(other)["rootfs"]["diff_ids"]))
        removed_blobs = {image_id}
        for manifest in gone:
            removed_blobs |= set(self._blobs_of(manifest)) | {manifest}
        released = [
            c
            for c in chain_ids(self._json_blob(image_id)["rootfs"]["diff_ids"])
            if c not in kept_chains
        ]
        for digest in removed_blobs - kept_blobs:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.blob_path(digest))
        for chain in released:
            self._remove_layer_dir(chain)
        return released

    def _blobs_of(self, manifest_digest: str) -> builtins.list[str]:
        manifest = self._json_blob(manifest_digest)
        return [manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]

    # ---- unpacked layers -------------------------------------------------------------

    def layer_dirs(self, image: Image) -> builtins.list[str]:
        """The image's layers unpacked, lowest first, unpacking any not done yet.

        Safe to call from many threads and daemons at once: each layer is unpacked
        under its own lock, into a temporary dir renamed into place when complete."""
        blobs = [layer["digest"] for layer in self.manifest(image)["layers"]]
        dirs = []
        for chain, blob, diff_id in zip(chain_ids(image.layers), blobs, image.layers, strict=True):
            path = os.path.join(self.layers, chain.removeprefix("sha256:"))
            if not os.path.isdir(path):
                self._unpack_layer(blob, diff_id, path)
            dirs.append(path)
        return dirs

    def _unpack_layer(self, blob: str, diff_id: str, path: str) -> None:
        with self._lock(f"layer-{os.path.basename(path)}"):
            if os.path.isdir(path):  # another thread or daemon was first
                return
            tmp = tempfile.mkdtemp(dir=self.layers, prefix=".unpacking-")
            try:
                os.chmod(tmp, 0o755)  # the merged root's mode if the tar has no "./"
                with open(self.blob_path(blob), "rb") as stream:
                    actual, _ = unpack.unpack(unpack.decompressed(stream), tmp)
                if actual != diff_id:
                    raise InvalidImage(f"layer {blob}: diff_id is {actual}, expected {diff_id}")
                os.rename(tmp, path)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise

    def _remove_layer_dir(self, chain: str) -> None:
        path = os.path.join(self.layers, chain.removeprefix("sha256:"))
        if not os.path.isdir(path):
            return
        # Rename first, so that no half-deleted layer is ever found under its name.
        doomed = tempfile.mkdtemp(dir=self.layers, prefix=".removing-")
        os.rename(path, os.path.join(doomed, "layer"))
        shutil.rmtree(doomed)

    # ---- images.json ------------------------------------------------------------------

    def _read_index(self) -> dict:
        try:
            with open(self.index_path, "rb") as f:
                index = json.load(f)
        except FileNotFoundError:
            index = {}
        for key in ("images", "manifests", "refs"):
            index.setdefault(key, {})
        return index

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        """An exclusive flock. Each call opens the lock file anew, and flock locks
        belong to an open file, so this excludes other threads as well as processes."""
        with open(os.path.join(self.locks, name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield  # closing the file releases the lock

    @contextlib.contextmanager
    def _update_index(self) -> Iterator[dict]:
        """Read, change and atomically rewrite images.json, holding its lock throughout."""
        with self._lock("images"):
            index = self._read_index()
            yield index
            data = json.dumps(index, indent=1, sort_keys=True).encode()
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".images.json-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(tmp, 0o644)
                os.replace(tmp, self.index_path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise


# ---- helpers shared with the API ----------------------------------------------------


def host_architecture() -> str:
    """This machine's architecture as image configs and manifest lists name it."""
    return GOARCH.get(platform.machine(), platform.machine())


def chain_ids(diff_ids: list[str]) -> list[str]:
    """A layer's identity includes everything below it: ChainID(n) =
    sha256(ChainID(n-1) + " " + DiffID(n)), as the OCI image spec defines."""
    chains: list[str] = []
    for diff_id in diff_ids:
        if not chains:
            chains.append(diff_id)
        else:
            text = f"{chains[-1]} {diff_id}".encode()
            chains.append("sha256:" + hashlib.sha256(text).hexdigest())
    return chains


def to_summary(image: Image) -> dict:
    """One item of `GET /images/json`, what `docker images` lists."""
    return {
        "Id": image.id,
        "ParentId": image.parent,
        "RepoTags": image.repo_tags,
        "RepoDigests": image.repo_digests,
        "Created": image.created,
        "Size": image.size,
        "SharedSize": -1,
        "VirtualSize": image.size,
        "Labels": (image.config.get("config") or {}).get("Labels") or {},
        "Containers": -1,
    }


def to_inspect(image: Image) -> dict:
    """`GET /images/{name}/json`, what `docker image inspect` prints."""
    config = image.config
    inspect = {
        "Id": image.id,
        "RepoTags": image.repo_tags,
        "RepoDigests": image.repo_digests,
        "Parent": image.parent,
        "Comment": config.get("comment", ""),
        "Created": config.get("created") or UNIX_EPOCH,
        "Container": config.get("container", ""),  # the one committed (commit, build)
        "DockerVersion": config.get("docker_version", ""),
        "Author": config.get("author", ""),
        "Config": {**DOCKER_CONFIG_DEFAULTS, **(config.get("config") or {})},
        "Architecture": image.architecture,
        "Os": image.os,
        "Size": image.size,
        "VirtualSize": image.size,
        "RootFS": {"Type": "layers", "Layers": image.layers},
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    }
    if config.get("variant"):
        inspect["Variant"] = config["variant"]
    return inspect


def _unix_time(rfc3339: object) -> int:
    """An image config's `created`, in unix seconds; 0 (as for no date) when it is no
    date at all. The config comes from whoever built the image: one unreadable date
    must not break `docker images` for every image. (dockerd's Go decoder refuses such
    a config when it is loaded or pulled.)

    Go writes nanoseconds (2024-01-02T03:04:05.123456789Z); Python reads microseconds."""
    if not isinstance(rfc3339, str) or not rfc3339:
        return 0
    text = re.sub(r"(\.\d{6})\d+", r"\1", rfc3339).replace("Z", "+00:00")
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except (ValueError, OverflowError, OSError):
        return 0


def _display(ref: str) -> str:
    """How Docker names a missing image: familiar, with the tag it assumed."""
    match = IMAGE_ID.match(ref)
    if match:
        return "sha256:" + match.group(1)
    try:
        return reference.parse(ref).familiar_string()
    except InvalidReference:
        return ref


def _is_name(ref: str, image_id: str) -> bool:
    """False when ref is the image's ID or a prefix of it (`docker rmi 1a2b`)."""
    hexpart = image_id.removeprefix("sha256:")
    return not (image_id.startswith(ref) or hexpart.startswith(ref))


def _single_reference(refs: list[Reference]) -> bool:
    """Docker's isSingleReference: at most one tag, and every name in one repository."""
    tags = [r for r in refs if r.digest is None]
    return len(tags) <= 1 and len({r.name for r in refs}) == 1


def _delete_conflict(image: Image, reason: str) -> ImageConflict:
    return ImageConflict(f"conflict: unable to delete {image.short_id} (must be forced) - {reason}")
