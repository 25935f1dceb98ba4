"""Docker's routes whose feature this engine does not have yet: a clear 501 each.

Every path of Docker's API reference (v1.45) answers something here. A route whose
feature comes in a later issue answers 501 Not Implemented with a message naming the
feature, never the bare 404 "page not found" that dockerd keeps for paths it does not
have: that one reads as a wrong URL or a wrong API version, and sends a user looking
in the wrong place. When a feature is implemented, its line leaves this table and a
real route takes its place in the module of its concept.

A route about one container first looks the container up, as Docker's would: asking
about one that does not exist is Docker's 404 "No such container", feature or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response

from shared.api.params import current_engine
from shared.errors import NotImplementedYet

bp = Blueprint("not_yet", __name__)


@dataclass(frozen=True)
class Missing:
    rule: str
    methods: list[str]
    feature: str  # what the user asked for, as they know it
    issue: int | None = None  # the project's issue planned to bring it; None: not planned

    @property
    def message(self) -> str:
        return f"{self.feature}: not supported by this engine" + (" yet" if self.issue else "")


MISSING = [
    # Watching and managing running containers (issue 18).
    # BuildKit's own channels: the daemon announces the classic builder (/_ping's
    # Builder-Version: 1), so a client that honours it never opens them.
    Missing("/session", ["POST"], "BuildKit (docker buildx) sessions"),
    Missing("/grpc", ["POST"], "BuildKit (docker buildx)"),
    # Attaching over a WebSocket (browsers' consoles); the CLI and docker-py use
    # /containers/{id}/attach.
    Missing("/containers/<ref>/attach/ws", ["GET"], "attaching over a WebSocket"),
    # Questions for a registry rather than for the engine.
    Missing("/images/search", ["GET"], "docker search"),
    Missing("/distribution/<path:name>/json", ["GET"],
            "asking a registry for an image's manifest (distribution inspect)"),
]


def _answer(missing: Missing) -> Callable[..., Response]:
    def refuse(ref: str | None = None, name: str | None = None) -> Response:
        container = ref
        if container:
            current_engine().containers.get(container)  # No such container: 404
        raise NotImplementedYet(missing.message)

    return refuse


for _missing in MISSING:
    bp.add_url_rule(_missing.rule, f"not yet {_missing.rule}", _answer(_missing),
                    methods=_missing.methods)
