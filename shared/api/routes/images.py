"""Image routes: pull, push, import, load, save, list, inspect, history, tag, delete, prune.

Pull, push and import answer with a stream of Docker's JSON progress lines
(registry/progress.py). Errors found before the first line (no such image, wrong
password, a manifest that does not exist) are ordinary HTTP errors, as in Docker;
after it, the status is already 200, so an error is the stream's last line.
"""

from __future__ import annotations

import gzip
import lzma
import os
import queue
import tarfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, request

from shared import patterns
from shared.api.params import accepted_filters, current_engine, json_body, qbool
from shared.api.prunefilters import has_labels, parse_until, prune_filters
from shared.daemon import gotypes
from shared.errors import EngineError, InvalidParameter
from shared.images import archive, reference
from shared.images import store as image_store
from shared.images.registry import progress
from shared.images.rootfs_import import history, import_rootfs

if TYPE_CHECKING:
    from shared.daemon.engine import Engine
    from shared.images.registry.auth import Credentials

bp = Blueprint("images", __name__)

JSON = "application/json"


def _credentials() -> Credentials:
    # Imported here, not at the top: requests takes ~100 ms to import, and a daemon
    # that never pulls should not pay for it at start-up.
    from shared.images.registry.auth import from_registry_auth

    return from_registry_auth(request.headers.get("X-Registry-Auth"))


def _streamed(job: Callable[[progress.Reporter], object]) -> Response:
    """Run `job` in a thread; send each message it reports as one JSON line."""
    messages: queue.Queue[dict | None] = queue.Queue()

    def run() -> None:
        try:
            job(progress.Reporter(messages.put))
        except EngineError as error:
            messages.put(progress.error(error.message))
        except Exception as error:  # the client must hear of it: the status is sent
            messages.put(progress.error(f"{type(error).__name__}: {error}"))
        finally:
            messages.put(None)

    threading.Thread(target=run, name="image-stream", daemon=True).start()

    def body() -> Iterator[bytes]:
        while (message := messages.get()) is not None:
            yield progress.encode(message)

    return Response(body(), mimetype=JSON)


@bp.post("/images/create")
def image_create() -> Response:
    engine = current_engine()
    if request.args.get("fromSrc"):
        return _import(engine)
    image, tag = request.args.get("fromImage", ""), request.args.get("tag", "")
    if not image:
        raise InvalidParameter("fromImage or fromSrc is required")
    if tag:  # the docker CLI sends a digest as the "tag": fromImage=x&tag=sha256:...
        image = f"{image}@{tag}" if ":" in tag else f"{image}:{tag}"
    from shared.images.registry.pull import Pull

    pull = Pull(engine.images, image, _credentials(), request.args.get("platform") or None)
    pull.resolve()  # no such manifest, no access: a plain HTTP error, before streaming
    named = reference.parse(image)

    def run(reporter: progress.Reporter) -> None:
        pull.run(reporter)
        # moby's distribution.Pull: the reference as pulled, and the repository's name
        _log(engine, "pull", named.familiar_string(), named.familiar())

    return _streamed(run)


def _log(engine: Engine, action: str, image_id: str, name: str) -> None:
    """An image event, with the image's labels while it exists (moby's LogImageEvent)."""
    labels: dict[str, str] = {}
    try:
        labels = (engine.images.resolve(image_id).config.get("config") or {}).get("Labels") or {}
    except EngineError:
        pass
    engine.events.image(action, image_id, name, labels)


def _log_deleted(engine: Engine, image_id: str, records: list[dict[str, str]]) -> None:
    """moby's ImageDelete: "untag" for each name removed, "delete" for the image."""
    for record in records:
        if "Untagged" in record:
            _log(engine, "untag", image_id, image_id)
        elif record.get("Deleted") == image_id:
            _log(engine, "delete", image_id, image_id)


def _import(engine: Engine) -> Response:
    source = request.args.get("fromSrc", "")
    if source != "-":
        raise InvalidParameter("importing from a URL is not supported: use fromSrc=-")
    tag = None
    if request.args.get("repo"):
        ref = reference.parse(request.args["repo"])
        tag = str(ref.with_tag(request.args["tag"])) if request.args.get("tag") else str(ref)
    image = import_rootfs(engine.images, request.stream, tag,
                          changes=request.args.getlist("changes"),
                          message=request.args.get("message", ""))
    if tag:
        _log(engine, "tag", image.id, reference.parse(tag).familiar_string())
    _log(engine, "import", image.id, image.id)
    return Response(progress.encode({"status": image.id}), mimetype=JSON)


@bp.post("/images/<path:name>/push")
def image_push(name: str) -> Response:
    engine = current_engine()
    from shared.images.registry.push import Push

    push = Push(engine.images, name, request.args.get("tag") or None, _credentials())
    tag = request.args.get("tag")
    named = reference.parse(f"{name}:{tag}" if tag else name)

    def run(reporter: progress.Reporter) -> None:
        push.run(reporter)
        _log(engine, "push", named.familiar_string(), named.familiar())

    return _streamed(run)


@bp.post("/auth")
def auth() -> Response:
    """`docker login`: try the credentials on the registry; the CLI keeps them."""
    from shared.images.registry.auth import Credentials
    from shared.images.registry.client import Repository
    from shared.images.registry.dockerconfig import DOCKER_HUB_KEY

    body = json_body()
    gotypes.check_body(body, gotypes.AUTH_CONFIG)
    server = body.get("serveraddress") or DOCKER_HUB_KEY
    host = server.removeprefix("https://").removeprefix("http://").split("/")[0]
    if host in ("index.docker.io", ""):
        host = reference.DEFAULT_REGISTRY
    credentials = Credentials(body.get("username") or "", body.get("password") or "",
                              body.get("identitytoken") or "")
    Repository(host, "", credentials, ()).knock()
    return jsonify(Status="Login Succeeded", IdentityToken="")


# moby daemon/images/image_list.go's acceptedImageFilterTags: any other is a 400, not a
# filter silently dropped (which would list every image).
IMAGE_LIST_FILTERS = {"dangling", "label", "before", "since", "reference", "until"}


@bp.get("/images/json")
def image_list() -> Response:
    """`docker images [NAME]`: every image, or those the filters keep. `docker images
    busybox` is the filter reference=busybox."""
    engine = current_engine()
    filters = accepted_filters(IMAGE_LIST_FILTERS)
    dangling = filters.get("dangling")
    dangling_only = False
    if dangling:  # moby's GetBoolOrDefault
        is_true = bool({"1", "true"} & set(dangling))
        if is_true == bool({"0", "false"} & set(dangling)):
            raise InvalidParameter(f"invalid filter 'dangling=[{' '.join(dangling)}]'")
        dangling_only = is_true
    # before/until: older than the oldest named; since: newer than the newest named
    before: list[float] = [engine.images.resolve(v).created for v in filters.get("before", [])]
    before += [parse_until(v, time.time()) for v in filters.get("until", [])]
    since = [engine.images.resolve(v).created for v in filters.get("since", [])]
    patterns_ = filters.get("reference")
    shown = []
    # moby: an untagged image with children (a build's step) only with all=1
    parents = set() if qbool("all") else set(engine.images.children())
    for image in engine.images.list():
        if image.id in parents and not (image.repo_tags or image.repo_digests):
            continue
        if before and not image.created < min(before):
            continue
        if since and not image.created > max(since):
            continue
        labels = (image.config.get("config") or {}).get("Labels") or {}
        if not has_labels(labels, filters.get("label", [])):
            continue
        summary = image_store.to_summary(image)
        tagged = bool(image.repo_tags or image.repo_digests)
        if patterns_ is not None:
            # only the names that match are shown; an image with none is not
            summary["RepoTags"] = [t for t in image.repo_tags if _ref_matches(patterns_, t)]
            summary["RepoDigests"] = [d for d in image.repo_digests
                                      if _ref_matches(patterns_, d)]
            if not (summary["RepoTags"] or summary["RepoDigests"]):
                continue
        if dangling is not None and (dangling_only == tagged):
            continue
        shown.append(summary)
    return jsonify(shown)


def _ref_matches(patterns_: list[str], familiar: str) -> bool:
    """moby's reference.FamiliarMatch: the pattern against the name alone
    (busybox), then against the whole familiar reference (busybox:latest)."""
    name = reference.parse_named(familiar).familiar()
    try:
        return any(patterns.glob_match(p, name) or patterns.glob_match(p, familiar)
                   for p in patterns_)
    except patterns.BadPattern as error:
        raise InvalidParameter(str(error)) from None


@bp.get("/images/get")
def image_save_many() -> Response:
    return _save(request.args.getlist("names"))


@bp.get("/images/<path:ref>/get")
def image_save(ref: str) -> Response:
    return _save([ref])


def _save(names: list[str]) -> Response:
    """A tar made while it is sent: archive.save writes into a pipe, we read it.
    Its first bytes are awaited here, so that a bad name is still a 404."""
    engine = current_engine()
    if not names:
        raise InvalidParameter("no image names given")
    read_fd, write_fd = os.pipe()
    failed: list[BaseException] = []

    def write() -> None:
        try:
            with os.fdopen(write_fd, "wb") as out:
                archive.save(engine.images, names, out)
        except BrokenPipeError:
            pass  # the client went away
        except BaseException as error:
            failed.append(error)

    writer = threading.Thread(target=write, name="image-save", daemon=True)
    writer.start()
    pipe = os.fdopen(read_fd, "rb")
    first = pipe.read(65536)
    if not first:
        writer.join()
        pipe.close()
        if failed:
            raise failed[0]
    for image_id in dict.fromkeys(engine.images.resolve(n).id for n in names):
        _log(engine, "save", image_id, image_id)

    def body() -> Iterator[bytes]:
        with pipe:
            yield first
            while chunk := pipe.read(1 << 20):
                yield chunk

    return Response(body(), mimetype="application/x-tar")


@bp.post("/images/load")
def image_load() -> Response:
    engine = current_engine()
    try:
        loaded = archive.load(engine.images, request.stream)
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile,
            ValueError, KeyError, TypeError, AttributeError) as e:
        # The client's archive does not hold together: not a tar, cut short, badly
        # compressed, or a manifest.json or index.json of the wrong shape (a JSON error
        # is a ValueError, a missing key a KeyError, a list where an object belongs a
        # TypeError or AttributeError).
        if isinstance(e, EngineError):
            raise
        raise InvalidParameter(f"invalid archive: {type(e).__name__}: {e}") from None
    for image_id in dict.fromkeys(engine.images.resolve(n).id for n in loaded):
        _log(engine, "load", image_id, image_id)
    lines = []
    for name in loaded:
        text = f"Loaded image ID: {name}" if name.startswith("sha256:") else \
            f"Loaded image: {name}"
        lines.append(progress.encode({"stream": text + "\n"}))
    return Response(b"".join(lines), mimetype=JSON)


@bp.get("/images/<path:ref>/json")
def image_inspect(ref: str) -> Response:
    engine = current_engine()
    return jsonify(image_store.to_inspect(engine.images.resolve(ref)))


@bp.get("/images/<path:ref>/history")
def image_history(ref: str) -> Response:
    engine = current_engine()
    return jsonify(history(engine.images, engine.images.resolve(ref)))


@bp.post("/images/<path:ref>/tag")
def image_tag(ref: str) -> Response:
    engine = current_engine()
    repo, tag = request.args.get("repo", ""), request.args.get("tag") or "latest"
    if not repo:
        raise InvalidParameter("repository name must have at least one component")
    if not reference.TAG.match(tag):
        raise InvalidParameter("invalid tag format")  # dockerd's words (reference.WithTag)
    image = engine.images.resolve(ref)
    engine.images.tag(image, f"{repo}:{tag}")
    _log(engine, "tag", image.id, reference.parse(f"{repo}:{tag}").familiar_string())
    return Response(status=201)


@bp.delete("/images/<path:ref>")
def image_delete(ref: str) -> Response:
    engine = current_engine()
    image_id = engine.images.resolve(ref).id
    records = engine.images.delete(ref, force=qbool("force"), in_use=_in_use(engine))
    _log_deleted(engine, image_id, records)
    return jsonify(records)


def _in_use(engine: Engine) -> Callable[[str], str | None]:
    def in_use(image_id: str) -> str | None:
        c = engine.image_in_use(image_id)
        return c.id if c else None

    return in_use


@bp.post("/images/prune")
def image_prune() -> Response:
    """`docker image prune`: images without a name (`-a`: every image), unless a
    container uses them."""
    engine = current_engine()
    # moby daemon/containerd/image_prune.go's imagesAcceptedFilters
    filters = prune_filters({"dangling", "label", "label!", "until"})
    dangling = filters.get("dangling", ["true"])
    is_true, is_false = bool({"1", "true"} & set(dangling)), bool({"0", "false"} & set(dangling))
    if is_true == is_false:  # moby's GetBoolOrDefault: neither, or both
        raise InvalidParameter(f"invalid filter 'dangling=[{' '.join(dangling)}]'")
    only_dangling = is_true
    in_use = _in_use(engine)
    deleted: list[dict[str, str]] = []
    reclaimed = 0
    parents = set(engine.images.children())
    for image in engine.images.list():
        if only_dangling and (image.repo_tags or image.repo_digests or image.id in parents):
            continue  # (a build's step goes with the image made on it: moby's Heads)
        if in_use(image.id):
            continue
        labels = (image.config.get("config") or {}).get("Labels") or {}
        if filters.spares(labels, image.created):
            continue
        try:
            records = engine.images.delete(image.id, force=True, in_use=in_use)
        except image_store.ImageNotFound:
            continue  # gone meanwhile
        _log_deleted(engine, image.id, records)
        deleted += records
        if any("Deleted" in r for r in records):
            reclaimed += image.size
    engine.events.log("image", "prune", "", {"reclaimed": str(reclaimed)})  # no actor
    return jsonify(ImagesDeleted=deleted or None, SpaceReclaimed=reclaimed)
