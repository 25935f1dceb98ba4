"""Swarm mode's routes, answered as a Docker engine that is not in a swarm answers them.

Whalebones has no swarm mode: no orchestrator, no Raft, no overlay network. A Docker
engine that has never joined a swarm answers every swarm route (the swarm itself, its
nodes, services, tasks, secrets and configs) with a 503 saying it is not a manager, and
`/info` and `/_ping` say its swarm state is "inactive" (routes/system.py). Clients rely
on these answers: `docker info`, `docker node ls` and docker-py's `leave_swarm(force=True)`,
which many test set-ups call to start from "no swarm", treat them as "no swarm here",
not as a broken daemon. A bare 404 "page not found" would read as a wrong URL.

The texts are moby's (daemon/cluster/errors.go and Cluster.errNoManager, v26.1).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from shared.api.params import json_body
from shared.errors import Unavailable

bp = Blueprint("swarm", __name__)

# Cluster.errNoManager for a node with no swarm node at all: every route that reads or
# changes the cluster's state answers this.
NOT_A_MANAGER = ('This node is not a swarm manager. Use "docker swarm init" or '
                 '"docker swarm join" to connect this node to swarm and try again.')

# errNoSwarm: what leaving answers when there is no swarm to leave. docker-py's
# leave_swarm(force=True) takes a 503 as "already out" and returns True.
NOT_IN_A_SWARM = "This node is not part of a swarm"

# Docker, in a swarm or not, can create one or join one; this engine cannot, so it has
# no Docker text to give. It keeps Docker's status for "swarm not available" (503), the
# one clients already handle for this family, with a message saying why.
NO_SWARM_MODE = "swarm mode is not supported by this engine: it cannot create or join a swarm"

# (rule, methods) of moby's swarm router (api/server/router/swarm/cluster.go) that need
# a manager. /swarm/unlock too: on a node without a swarm, UnlockSwarm answers
# errNoManager before it looks at the key.
_MANAGER_ROUTES: list[tuple[str, list[str]]] = [
    ("/swarm", ["GET"]),
    ("/swarm/update", ["POST"]),
    ("/swarm/unlockkey", ["GET"]),
    ("/swarm/unlock", ["POST"]),
    ("/nodes", ["GET"]),
    ("/nodes/<node_id>", ["GET", "DELETE"]),
    ("/nodes/<node_id>/update", ["POST"]),
    ("/services", ["GET"]),
    ("/services/create", ["POST"]),
    ("/services/<service_id>", ["GET", "DELETE"]),
    ("/services/<service_id>/update", ["POST"]),
    ("/services/<service_id>/logs", ["GET"]),
    ("/tasks", ["GET"]),
    ("/tasks/<task_id>", ["GET"]),
    ("/tasks/<task_id>/logs", ["GET"]),
    ("/secrets", ["GET"]),
    ("/secrets/create", ["POST"]),
    ("/secrets/<secret_id>", ["GET", "DELETE"]),
    ("/secrets/<secret_id>/update", ["POST"]),
    ("/configs", ["GET"]),
    ("/configs/create", ["POST"]),
    ("/configs/<config_id>", ["GET", "DELETE"]),
    ("/configs/<config_id>/update", ["POST"]),
]


def _read_body() -> None:
    """moby's swarm router decodes a POST's JSON body before asking the cluster: a
    malformed one is a 400 there, whatever the node's state."""
    if request.method == "POST":
        json_body()


def not_a_manager(**_ids: str) -> Response:
    _read_body()
    raise Unavailable(NOT_A_MANAGER)


for _rule, _methods in _MANAGER_ROUTES:
    bp.add_url_rule(_rule, f"not_a_manager {_rule}", not_a_manager, methods=_methods)


@bp.post("/swarm/leave")
def swarm_leave() -> Response:
    raise Unavailable(NOT_IN_A_SWARM)


@bp.post("/swarm/init")
@bp.post("/swarm/join")
def swarm_init_or_join() -> Response:
    _read_body()
    raise Unavailable(NO_SWARM_MODE)
