"""Docker's experimental routes, answered as a daemon started without --experimental.

dockerd registers its experimental routes (today: container checkpoints, CRIU's
checkpoint/restore) in every build, and unless it was started in experimental mode each
answers moby's 501 "This experimental feature is disabled..." (api/server/router/
experimental.go). This engine is never experimental (`/_ping` says
Docker-Experimental: false), so it answers the same: a client sees why, as it would
from Docker, rather than a "page not found" that reads as a wrong URL.
"""

from __future__ import annotations

from flask import Blueprint, Response

from shared.errors import NotImplementedYet

bp = Blueprint("experimental", __name__)

DISABLED = ("This experimental feature is disabled by default. Start the Docker daemon in "
            "experimental mode in order to enable it.")


# moby: /containers/{name:.*}/checkpoints (GET, POST) and
# /containers/{name}/checkpoints/{checkpoint} (DELETE), api/server/router/checkpoint.
@bp.route("/containers/<path:name>/checkpoints", methods=["GET", "POST"])
@bp.delete("/containers/<name>/checkpoints/<checkpoint>")
def checkpoints(name: str, checkpoint: str | None = None) -> Response:
    raise NotImplementedYet(DISABLED)
