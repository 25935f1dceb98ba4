"""System routes: _ping, version, info: what every client asks first; and df."""

from __future__ import annotations

import os
import platform
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, request

from shared.api.params import current_engine
from shared.api.version import API_VERSION, MIN_API_VERSION, VERSION

if TYPE_CHECKING:
    from shared.daemon.engine import Engine

bp = Blueprint("system", __name__)


@bp.route("/_ping", methods=["GET", "HEAD"])
def ping() -> Response:
    resp = Response("OK", mimetype="text/plain")
    resp.headers["Docker-Experimental"] = "false"
    resp.headers["Builder-Version"] = "1"
    resp.headers["Swarm"] = "inactive"
    resp.headers["Cache-Control"] = "no-cache, no-store, must-revalidate"
    return resp


@bp.get("/version")
def version() -> Response:
    engine = current_engine()
    uname = platform.uname()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(uname.machine, uname.machine)
    details = {
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "whalebones",
        "GoVersion": f"python{platform.python_version()}",
        "Os": "linux",
        "Arch": arch,
        "KernelVersion": uname.release,
        "Experimental": "false",
        "BuildTime": "",
        "Stage": engine.stage,
    }
    return jsonify(
        Platform={"Name": f"Whalebones ({engine.stage}: {engine.executor.name})"},
        Components=[{"Name": "Engine", "Version": VERSION, "Details": details}],
        Version=VERSION,
        ApiVersion=API_VERSION,
        MinAPIVersion=MIN_API_VERSION,
        GitCommit="whalebones",
        GoVersion=f"python{platform.python_version()}",
        Os="linux",
        Arch=arch,
        KernelVersion=uname.release,
        BuildTime="",
    )


def _registry_config(engine: Engine) -> dict:
    """daemon.json's registry-mirrors and insecure-registries, as `docker info`
    reads them (moby's registry.ServiceConfig)."""
    settings = engine.settings
    cidrs = ["127.0.0.0/8", "::1/128"] + [r for r in settings.insecure_registries if "/" in r]
    indexes = {"docker.io": {"Name": "docker.io", "Mirrors": settings.registry_mirrors,
                             "Secure": True, "Official": True}}
    for name in settings.insecure_registries:
        if "/" not in name:
            indexes[name] = {"Name": name, "Mirrors": [], "Secure": False, "Official": False}
    return {"InsecureRegistryCIDRs": cidrs, "IndexConfigs": indexes,
            "Mirrors": settings.registry_mirrors}


@bp.get("/info")
def info() -> Response:
    engine = current_engine()
    all_c = engine.containers.all()
    running = sum(1 for c in all_c if c.state.status == "running")
    paused = sum(1 for c in all_c if c.state.status == "paused")
    uname = platform.uname()
    return jsonify(
        ID="whalebones",
        Containers=len(all_c),
        ContainersRunning=running,
        ContainersPaused=paused,
        ContainersStopped=len(all_c) - running - paused,
        Images=len(engine.images.list()),
        Driver="overlay",
        Debug=engine.settings.debug,
        Labels=engine.settings.labels,
        LiveRestoreEnabled=engine.live_restore,
        RegistryConfig=_registry_config(engine),
        NEventsListener=engine.events.subscribers(),  # the `docker events` now reading
        OSType="linux",
        OperatingSystem="Whalebones",
        Architecture=uname.machine,
        NCPU=os.cpu_count(),
        MemTotal=os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        DockerRootDir=os.path.dirname(engine.containers.root),
        Name=uname.node,
        ServerVersion=VERSION,
        KernelVersion=uname.release,
        LoggingDriver=engine.settings.log_driver,
        CgroupDriver="cgroupfs",
        CgroupVersion="2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1",
        DefaultRuntime=engine.executor.name,
        Runtimes={engine.executor.name: {"path": engine.executor.name}},
        # dockerd lists no-new-privileges only when its own --no-new-privileges makes
        # it every container's default; here, as there by default, it is not.
        SecurityOptions=["name=seccomp,profile=builtin"],
        # A Docker engine that never joined a swarm (routes/swarm.py answers the rest)
        Swarm={"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
               "ControlAvailable": False, "Error": "", "RemoteManagers": None},
        Plugins={"Log": ["json-file"], "Network": ["host", "null"], "Volume": []},
        Warnings=[],
    )


# `GET /system/df?type=...`: which parts to count (API 1.42); none: all of them.
DF_TYPES = ("container", "image", "volume", "build-cache")


@bp.get("/system/df")
def disk_usage() -> Response:
    """`docker system df`: the images, containers and volumes, with what each takes on
    disk and how many containers use each image and volume (moby's daemon/disk_usage.go
    shape). There is no build cache: this engine does not build."""
    from shared.api import views
    from shared.api.routes.volumes import view as volume_view
    from shared.errors import InvalidParameter
    from shared.images.store import to_summary

    engine = current_engine()
    kinds = request.args.getlist("type") or list(DF_TYPES)
    for kind in kinds:
        if kind not in DF_TYPES:
            raise InvalidParameter(f"unknown object type: {kind}")
    containers = engine.containers.all()
    body: dict = {}
    if "image" in kinds:
        images = []
        for image in engine.images.list():
            summary = to_summary(image)
            summary["Containers"] = sum(1 for c in containers if c.image_id == image.id)
            images.append(summary)
        body["LayersSize"] = sum(i["Size"] for i in images)
        body["Images"] = images
    if "container" in kinds:
        body["Containers"] = [{**views.summary(engine, c), **views.sizes(engine, c)}
                              for c in containers]
    if "volume" in kinds:
        volumes = []
        for v in engine.volumes.all():
            shown = volume_view(v, engine.volumes.data_path(v.name))
            shown["UsageData"] = {"Size": engine.volumes.size(v.name),
                                  "RefCount": len(engine.volume_users(v.name))}
            volumes.append(shown)
        body["Volumes"] = volumes
    if "build-cache" in kinds:
        body["BuildCache"] = []
    return jsonify(body)
