"""Managed plugins' routes, answered as a Docker engine with no plugin installed.

Docker's managed plugins (`docker plugin install`) are containers the engine runs to
provide volume, network, log or authorization drivers. Whalebones has none and cannot
install any. Reading is truthful as it stands: the list is empty, and every name is
Docker's 404 "plugin ... not found" (moby plugin/errors.go errNotFound, with the name as
the client gave it). Installing (pull, create) and asking a registry what a plugin would
need (privileges) are refused with a 501 that says so: answering them the way Docker does
would mean fetching a plugin this engine would never run.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from shared.api.params import accepted_filters
from shared.errors import NotFound, NotImplementedYet

bp = Blueprint("plugins", __name__)

NO_PLUGINS = "managed plugins are not supported by this engine"


class PluginNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f'plugin "{name}" not found')


@bp.get("/plugins")
def plugin_list() -> Response:
    accepted_filters({"enabled", "capability"})  # moby's acceptedPluginFilterTags
    return jsonify([])


# moby's rules are /plugins/{name:.*}/...: a plugin's name may hold slashes
# (registry.example/team/plugin:tag), hence <path:name>.
@bp.get("/plugins/<path:name>/json")
@bp.delete("/plugins/<path:name>")
@bp.post("/plugins/<path:name>/enable")
@bp.post("/plugins/<path:name>/disable")
@bp.post("/plugins/<path:name>/push")
@bp.post("/plugins/<path:name>/set")
@bp.post("/plugins/<path:name>/upgrade")
def plugin_not_found(name: str) -> Response:
    raise PluginNotFound(name)


@bp.get("/plugins/privileges")
@bp.post("/plugins/pull")
@bp.post("/plugins/create")
def plugin_install() -> Response:
    raise NotImplementedYet(f"{NO_PLUGINS}: none can be installed")
