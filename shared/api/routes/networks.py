"""Network routes: `docker network create/ls/inspect/rm/connect/disconnect/prune`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from shared import patterns
from shared.api.params import accepted_filters, current_engine, json_body
from shared.api.prunefilters import has_labels, prune_filters
from shared.daemon import gotypes
from shared.daemon.engine import Engine
from shared.daemon.state import rfc3339
from shared.errors import InvalidParameter, NotFound
from shared.network.manager import NetworkManager
from shared.network.store import Network

bp = Blueprint("networks", __name__)


def manager() -> NetworkManager:
    engine = current_engine()
    if engine.network is None:
        raise NotFound("networking is disabled on this daemon (--bridge=none)")
    return engine.network


def view(engine: Engine, net: Network, containers: bool = True) -> dict:
    config = [{"Subnet": net.subnet, "Gateway": net.gateway}] if net.subnet else []
    found = {}
    if containers and engine.network is not None:
        for sb, ep in engine.network.containers_on(net):
            found[sb.cid] = {"Name": sb.name, "EndpointID": ep.endpoint_id,
                             "MacAddress": ep.mac,
                             "IPv4Address": f"{ep.address}/{ep.prefixlen}", "IPv6Address": ""}
    return {
        "Name": net.name,
        "Id": net.id,
        "Created": rfc3339(net.created),
        "Scope": "local",
        "Driver": net.driver,
        "EnableIPv4": True,
        "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None if net.predefined else {},
                 "Config": config},
        "Internal": net.internal,
        "Attachable": net.attachable,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": found,
        "Options": net.options,
        "Labels": net.labels,
    }


# moby api/types/network ValidateFilters: any other filter is a 400, not one dropped.
NETWORK_LIST_FILTERS = {"dangling", "driver", "id", "label", "name", "scope", "type"}


def _matches(net: Network, filters: dict[str, list[str]]) -> bool:
    """moby daemon/network/filter.go FilterNetworks; name and id are regular
    expressions (filters.Args.Match), driver and scope exact."""
    if "name" in filters and not any(v == net.name or patterns.search(v, net.name)
                                     for v in filters["name"]):
        return False
    if "id" in filters and not any(v == net.id or patterns.search(v, net.id)
                                   for v in filters["id"]):
        return False
    if "driver" in filters and net.driver not in filters["driver"]:
        return False
    if "scope" in filters and "local" not in filters["scope"]:  # no swarm-scoped network
        return False
    if not has_labels(net.labels, filters.get("label", [])):
        return False
    if "type" in filters:
        for kind in filters["type"]:
            if kind not in ("builtin", "custom"):
                raise InvalidParameter(f"invalid filter: 'type'='{kind}'")
        if ("builtin" if net.predefined else "custom") not in filters["type"]:
            return False
    return True


def _dangling(filters: dict[str, list[str]]) -> bool | None:
    values = filters.get("dangling")
    if not values:
        return None
    if len(values) > 1:
        raise InvalidParameter('got more than one value for filter key "dangling"')
    if values[0] not in ("0", "false", "1", "true"):
        raise InvalidParameter('invalid value for filter \'dangling\', must be "true" (or '
                               '"1"), or "false" (or "0")')
    return values[0] in ("1", "true")


@bp.get("/networks")
def network_list() -> Response:
    engine = current_engine()
    filters = accepted_filters(NETWORK_LIST_FILTERS)
    dangling = _dangling(filters)
    shown = []
    for net in manager().list():
        if not _matches(net, filters):
            continue
        # dangling is documented as "no container uses it (and not predefined)", but
        # dockerd (20.10 to 26.1, daemon.GetNetworks) filters a list made without the
        # containers, so every network not predefined is dangling. Clients see dockerd's
        # answer, and so they get it here too; `docker network prune` does look at use.
        if dangling is not None and dangling != (not net.predefined):
            continue
        shown.append(view(engine, net, containers=False))
    return jsonify(shown)


@bp.get("/networks/<ref>")
def network_inspect(ref: str) -> Response:
    # verbose adds swarm's services; scope picks local or swarm networks: every network
    # here is local, so another scope finds none (moby filters the lookup by it).
    verbose = request.args.get("verbose", "")
    if verbose.lower() not in ("", "0", "1", "t", "f", "true", "false"):
        raise InvalidParameter(f"invalid value for verbose: {verbose}: strconv.ParseBool: "
                               f'parsing "{verbose}": invalid syntax')
    net = manager().get(ref)
    if request.args.get("scope", "local") not in ("", "local"):
        raise NotFound(f"network {ref} not found")
    return jsonify(view(current_engine(), net))


@bp.post("/networks/create")
def network_create() -> Response:
    body = json_body()
    gotypes.check_body(body, gotypes.NETWORK_CREATE)
    net = manager().create(body)
    current_engine().events.network("create", net.id, net.name, net.driver)
    resp = jsonify(Id=net.id, Warning="")
    resp.status_code = 201
    return resp


@bp.delete("/networks/<ref>")
def network_delete(ref: str) -> Response:
    _remove(manager(), ref)
    return Response(status=204)


def _remove(m: NetworkManager, ref: str) -> None:
    net = m.get(ref)
    m.remove(ref)
    current_engine().events.network("destroy", net.id, net.name, net.driver)


@bp.post("/networks/<ref>/connect")
def network_connect(ref: str) -> Response:
    body = json_body()
    gotypes.check_body(body, gotypes.NETWORK_CONNECT)
    current_engine().networking.connect(ref, str(body.get("Container") or ""),
                                     body.get("EndpointConfig") or {})
    return Response(status=200)


@bp.post("/networks/<ref>/disconnect")
def network_disconnect(ref: str) -> Response:
    body = json_body()
    gotypes.check_body(body, gotypes.NETWORK_DISCONNECT)
    current_engine().networking.disconnect(ref, str(body.get("Container") or ""))
    return Response(status=200)


@bp.post("/networks/prune")
def network_prune() -> Response:
    # moby daemon/prune.go's networksAcceptedFilters
    filters = prune_filters({"label", "label!", "until"})
    m = manager()
    deleted = []
    for net in m.list():
        if filters.spares(net.labels, net.created):
            continue
        if net.user_defined and not m.containers_on(net):
            _remove(m, net.id)
            deleted.append(net.name)
    current_engine().events.network_prune()
    return jsonify(NetworksDeleted=deleted)
