"""POST /build: the classic builder (shared/build/builder.py), and POST /build/prune.

The body is the build context, a tar (the docker CLI has already left out what
.dockerignore names). The answer is a stream of JSON lines, as moby's postBuild writes
them: an error found before the first line (a bad option, a Dockerfile that does not
parse) is an ordinary HTTP error; after it, the status is sent, and an error is the
stream's last line. With q=1 the steps are held back and only the image ID is sent
(all of them, then the error, if the build fails).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Iterator

from flask import Blueprint, Response, jsonify, request

from shared.api.params import current_engine, qbool, query_filters
from shared.build.builder import Builder, BuildError, BuildOptions
from shared.build.cache import BuildCache
from shared.errors import EngineError, InvalidParameter
from shared.images import reference
from shared.images.registry import progress

bp = Blueprint("build", __name__)

JSON = "application/json"
SUPPORTED_PLATFORMS = ("", "linux", "linux/amd64", "amd64")


def _json_param(name: str, what: str) -> dict:
    raw = request.args.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise InvalidParameter(f"error reading {what}: {e}") from None
    if not isinstance(value, dict):
        raise InvalidParameter(f"error reading {what}: not an object")
    return value


def options_from_request() -> BuildOptions:
    """moby's newImageBuildOptions, and what this engine refuses (400)."""
    if request.args.get("remote"):
        raise InvalidParameter("building from a remote context (a URL or a git repository) "
                               "is not supported by this engine: send the context as a tar")
    platform = request.args.get("platform", "")
    if platform not in SUPPORTED_PLATFORMS:
        raise InvalidParameter(f'"{platform}": this engine builds for linux/amd64 only')
    if request.args.get("version", "1") != "1":
        raise InvalidParameter("BuildKit (builder version 2) is not supported by this "
                               "engine: use the classic builder (DOCKER_BUILDKIT=0)")
    if qbool("squash"):
        raise InvalidParameter("the build option squash is not supported by this engine")
    for name in ("cachefrom", "securityopt", "outputs", "isolation"):
        if request.args.get(name) not in (None, "", "[]", "null", "default"):
            raise InvalidParameter(f"the build option {name} is not supported by this engine")
    buildargs = _json_param("buildargs", "build args")
    labels = _json_param("labels", "labels")
    tags = request.args.getlist("t")
    for tag in tags:
        ref = reference.parse(tag)  # 400 for a bad name
        if ref.digest is not None:
            raise InvalidParameter("build tag cannot contain a digest")
    rm = qbool("rm", True) if request.args.get("rm") not in (None, "") else True
    forcerm = qbool("forcerm")
    return BuildOptions(
        dockerfile=request.args.get("dockerfile") or "Dockerfile",
        tags=tags,
        buildargs={str(k): (None if v is None else str(v)) for k, v in buildargs.items()},
        nocache=qbool("nocache"),
        rm=rm or forcerm,
        forcerm=forcerm,
        pull=qbool("pull"),
        target=request.args.get("target", ""),
        labels={str(k): str(v) for k, v in labels.items()},
        networkmode=request.args.get("networkmode", ""),
        extrahosts=request.args.getlist("extrahosts"),
        resources=_resources(),
    )


# moby's hostConfigFromOptions: the RUN containers' resources, as `docker run` has them.
RESOURCES = {"memory": "Memory", "memswap": "MemorySwap", "cpushares": "CpuShares",
             "cpuperiod": "CpuPeriod", "cpuquota": "CpuQuota", "shmsize": "ShmSize"}


def _resources() -> dict:
    host_config: dict = {}
    for name, key in RESOURCES.items():
        value = request.args.get(name)
        if value not in (None, "", "0"):
            try:
                host_config[key] = int(value)
            except ValueError:
                raise InvalidParameter(f"invalid value for {name}: {value!r}") from None
    for name, key in (("cpusetcpus", "CpusetCpus"), ("cpusetmems", "CpusetMems"),
                      ("cgroupparent", "CgroupParent")):
        if request.args.get(name):
            host_config[key] = request.args[name]
    ulimits = request.args.get("ulimits")
    if ulimits:
        try:
            parsed = json.loads(ulimits)
        except ValueError as e:
            raise InvalidParameter(f"error reading ulimit settings: {e}") from None
        if parsed:
            host_config["Ulimits"] = parsed
    return host_config


@bp.post("/build")
def build() -> Response:
    engine = current_engine()
    options = options_from_request()
    quiet = qbool("q")
    workdir = tempfile.mkdtemp(prefix="build-", dir=engine.images.tmp)
    try:
        context_dir = os.path.join(workdir, "context")
        os.mkdir(context_dir, 0o755)
        from shared.build import context

        try:
            try:
                context.unpack(request.stream, context_dir)  # type: ignore[arg-type]
            except tarfile.ReadError as e:
                if "empty" not in str(e):  # an empty body: no Dockerfile, said below
                    raise InvalidParameter(f"the build context is not a tar archive: {e}"
                                           ) from None
            options.dockerfile, text = context.read_dockerfile(context_dir, options.dockerfile)
            context.remove_build_files(context_dir, options.dockerfile)
        except context.ContextError as e:
            raise InvalidParameter(str(e)) from None
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    messages: queue.Queue[dict | BaseException | None] = queue.Queue()
    held: list[dict] = []

    def emit(message: dict) -> None:
        if quiet:
            held.append(message)
        else:
            messages.put(message)

    def run() -> None:
        builder = Builder(engine, context_dir, options, emit)
        try:
            image_id = builder.build(text)
            if quiet:
                messages.put({"stream": image_id + "\n"})
        except BaseException as e:
            builder.remove_containers() if options.forcerm else None
            for message in held:
                messages.put(message)
            messages.put(e)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            messages.put(None)

    threading.Thread(target=run, name="build", daemon=True).start()
    first = messages.get()
    if isinstance(first, EngineError) and not isinstance(first, BuildError):
        messages.get()  # the end
        raise first  # nothing was sent yet: an HTTP error, as moby's errf

    def body() -> Iterator[bytes]:
        message = first
        while message is not None:
            if isinstance(message, BaseException):
                yield progress.encode(_error(message))
            else:
                yield progress.encode(message)
            message = messages.get()

    return Response(body(), mimetype=JSON)


def _error(e: BaseException) -> dict:
    text = e.message if isinstance(e, EngineError) else f"{type(e).__name__}: {e}"
    detail: dict = {"message": text}
    if isinstance(e, BuildError) and e.code:
        detail = {"code": e.code, "message": text}
    return {"errorDetail": detail, "error": text}


@bp.post("/build/prune")
def build_prune() -> Response:
    """`docker builder prune`: forget the build cache. The cached steps' images stay
    (they are images like any other, removed with `docker image prune -a`); the
    classic builder keeps no other cache, so nothing is reclaimed."""
    engine = current_engine()
    query_filters()  # a malformed filter is a 400, as dockerd's
    BuildCache(engine.images).prune()
    engine.events.log("builder", "prune", "", {"reclaimed": "0"})
    return jsonify({"CachesDeleted": None, "SpaceReclaimed": 0})
