"""Volume routes: `docker volume create/ls/inspect/rm/prune` (moby's
api/server/router/volume and daemon/volume/service), over the daemon's VolumeStore
(shared/volumes/store.py, the local driver)."""

from __future__ import annotations

import re
import time

from flask import Blueprint, Response, jsonify, request

from shared.api.params import accepted_filters, current_engine, json_body, qbool
from shared.api.prunefilters import has_labels, prune_filters
from shared.daemon import gotypes
from shared.errors import InvalidParameter, Unavailable
from shared.volumes.store import ANONYMOUS_LABEL, Volume

bp = Blueprint("volumes", __name__)


def view(v: Volume, mountpoint: str) -> dict:
    """volume.Volume as Docker shows it (its CreatedAt without fractions, as Go's
    time.RFC3339; empty Labels and Options are null)."""
    return {"CreatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(v.created)),
            "Driver": v.driver, "Labels": v.labels or None, "Mountpoint": mountpoint,
            "Name": v.name, "Options": v.options or None, "Scope": "local"}


def _bool_filter(name: str, value: str) -> bool:
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise InvalidParameter(f"invalid filter '{name}={value}'")


@bp.get("/volumes")
def volume_list() -> Response:
    filters = accepted_filters({"dangling", "name", "driver", "label"})
    engine = current_engine()
    shown = []
    for v in sorted(engine.volumes.all(), key=lambda v: v.name):
        if "dangling" in filters:
            wanted = [_bool_filter("dangling", d) for d in filters["dangling"]]
            if not any(w == (not engine.volume_users(v.name)) for w in wanted):
                continue
        # moby's filters.Match: each value a regular expression searched in the name
        if "name" in filters and not any(re.search(n, v.name) for n in filters["name"]):
            continue
        if "driver" in filters and not any(re.search(d, v.driver)
                                           for d in filters["driver"]):
            continue
        if "label" in filters and not has_labels(v.labels, filters["label"]):
            continue
        shown.append(view(v, engine.volumes.data_path(v.name)))
    return jsonify(Volumes=shown, Warnings=None)


@bp.post("/volumes/create")
def volume_create() -> tuple[Response, int]:
    body = json_body()
    gotypes.check_body(body, gotypes.VOLUME_CREATE)
    if body.get("ClusterVolumeSpec"):  # a swarm cluster volume: never taken and ignored
        raise Unavailable("cluster volumes are only available on swarm managers: this node "
                          "is not part of a swarm")
    engine = current_engine()
    v, _ = engine.volumes.create(body.get("Name") or "", body.get("Driver") or "local",
                                 body.get("Labels") or {}, body.get("DriverOpts") or {})
    return jsonify(view(v, engine.volumes.data_path(v.name))), 201


@bp.get("/volumes/<name>")
def volume_inspect(name: str) -> Response:
    engine = current_engine()
    return jsonify(view(engine.volumes.get(name), engine.volumes.data_path(name)))


@bp.put("/volumes/<name>")
def volume_update(name: str) -> Response:
    # Only swarm's cluster volumes can be updated; moby's router checks for a manager
    # first (api/server/router/volume/volume_routes.go).
    raise Unavailable("volume update only valid for cluster volumes, but swarm is unavailable")


@bp.delete("/volumes/<name>")
def volume_remove(name: str) -> Response:
    current_engine().volumes.remove(name, force=qbool("force"))
    return Response(status=204)


@bp.post("/volumes/prune")
def volume_prune() -> Response:
    """The unused volumes go. Since API 1.42 (Docker 23) only anonymous ones unless
    `all=true`; a client of an older API version (docker 20.10) gets the old rule, all
    unused volumes, as moby's router gives it."""
    filters = prune_filters({"label", "label!", "all"})  # moby's acceptedPruneFilters
    engine = current_engine()
    version = request.environ.get("whalebones.api_version") or (1, 45)
    every = version < (1, 42) or any(_bool_filter("all", a) for a in filters.get("all", []))
    deleted, reclaimed = [], 0
    for v in engine.volumes.all():
        if engine.volume_users(v.name) or (not every and ANONYMOUS_LABEL not in v.labels):
            continue
        if filters.spares(v.labels, v.created):
            continue
        size = engine.volumes.size(v.name)
        try:
            engine.volumes.remove(v.name)
        except Exception:  # in use since, or gone: not this prune's
            continue
        deleted.append(v.name)
        reclaimed += size
    engine.events.volume("prune", "", reclaimed=str(reclaimed))  # moby's, with no actor
    return jsonify(VolumesDeleted=deleted or None, SpaceReclaimed=reclaimed)
