"""Network routes: `docker network create/ls/inspect/rm/connect/disconnect/prune`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from shared.api.params import current_engine, json_body, query_filters
from shared.api.prunefilters import prune_filters
from shared.daemon import gotypes
from shared.daemon.engine import Engine
from shared.daemon.state import rfc3339
from shared.errors import NotFound
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


def _matches(net: Network, filters: dict[str, list[str]]) -> bool:
    for key, values in filters.items():
        if key == "name" and not any(v in net.name for v in values):
            return False
        if key == "id" and not any(net.id.startswith(v) for v in values):
            return False
        if key == "driver" and net.driver not in values:
            return False
        if key == "type":
            kind = "builtin" if net.predefined else "custom"
            if kind not in values:
                return False
        if key == "label":
            for v in values:
                k, sep, want = v.partition("=")
                if k not in net.labels or (sep and net.labels[k] != want):
                    return False
    return True


@bp.get("/networks")
def network_list() -> Response:
    engine = current_engine()
    filters = query_filters()
    return jsonify([view(engine, n, containers=False) for n in manager().list()
                    if _matches(n, filters)])


@bp.get("/networks/<ref>")
def network_inspect(ref: str) -> Response:
    return jsonify(view(current_engine(), manager().get(ref)))


@bp.post("/networks/create")
def network_create() -> Response:
    body = json_body()
    gotypes.check_body(body, gotypes.NETWORK_CREATE)
    net = manager().create(body)
    resp = jsonify(Id=net.id, Warning="")
    resp.status_code = 201
    return resp


@bp.delete("/networks/<ref>")
def network_delete(ref: str) -> Response:
    manager().remove(ref)
    return Response(status=204)


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
            m.remove(net.id)
            deleted.append(net.name)
    return jsonify(NetworksDeleted=deleted)
