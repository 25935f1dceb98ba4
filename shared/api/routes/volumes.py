"""Volume routes, before volumes exist (planned: issue 17).

Whalebones cannot make a named volume yet, so none exists, and what Docker answers about
volumes that do not exist is already the truth here: the list is empty, a name is
moby's 404 "get NAME: no such volume" (volume/service/store.go, errNoSuchVolume in an
OpErr), removing one with force succeeds with nothing to do, and a prune deletes nothing.
Creating one is refused with a 501: a volume accepted and then not mounted would be a lie.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from shared.api.params import accepted_filters, qbool
from shared.api.prunefilters import prune_filters
from shared.errors import NotFound, NotImplementedYet, Unavailable

bp = Blueprint("volumes", __name__)


class NoSuchVolume(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"get {name}: no such volume")


@bp.get("/volumes")
def volume_list() -> Response:
    # moby volume/service acceptedListFilters: checked, though no volume can match
    accepted_filters({"dangling", "name", "driver", "label"})
    return jsonify(Volumes=[], Warnings=None)


@bp.post("/volumes/create")
def volume_create() -> Response:
    raise NotImplementedYet("docker volume create: volumes are not supported by this "
                            "engine yet")


@bp.get("/volumes/<name>")
def volume_inspect(name: str) -> Response:
    raise NoSuchVolume(name)


@bp.put("/volumes/<name>")
def volume_update(name: str) -> Response:
    # Only swarm's cluster volumes can be updated; moby's router checks for a manager
    # first (api/server/router/volume/volume_routes.go).
    raise Unavailable("volume update only valid for cluster volumes, but swarm is unavailable")


@bp.delete("/volumes/<name>")
def volume_remove(name: str) -> Response:
    # moby's WithPurgeOnError(force): with force, a volume that is not there is not an
    # error.
    if qbool("force"):
        return Response(status=204)
    raise NoSuchVolume(name)


@bp.post("/volumes/prune")
def volume_prune() -> Response:
    prune_filters({"label", "label!", "all"})  # moby's acceptedPruneFilters
    return jsonify(VolumesDeleted=None, SpaceReclaimed=0)
