"""Which containers `docker ps --filter ...` lists: moby's filters, read as dockerd reads them.

A filter dropped because it is not understood lists containers the user asked to leave
out, and scripts act on that list (`docker rm $(docker ps -aq --filter exited=0)`). So
every filter of moby's acceptedPsFilterTags is applied, or refused with a 400 naming it;
any other name is moby's "invalid filter 'NAME'" (daemon/list.go: foldFilter,
includeContainerInList, v26.1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from shared import patterns
from shared.api import views
from shared.api.prunefilters import has_labels
from shared.daemon import health
from shared.daemon.engine import Engine
from shared.daemon.state import Container
from shared.errors import InvalidParameter

ACCEPTED = {"ancestor", "before", "exited", "health", "id", "isolation", "is-task", "label",
            "name", "status", "since", "volume", "network", "publish", "expose"}
# container.IsValidStateString and IsValidHealthString
STATES = {"paused", "restarting", "removing", "running", "dead", "created", "exited"}
HEALTH = {"starting", "healthy", "unhealthy", "none"}


@dataclass
class PsFilters:
    """The filters of one request, checked and resolved (names to containers/images)."""

    filters: dict[str, list[str]]
    exited: list[int] = field(default_factory=list)
    before: float | None = None  # created time of the `before` container
    since: float | None = None
    is_task: bool | None = None
    ancestors: set[str] | None = None  # image IDs; None: no ancestor filter
    publish: list[Callable[[int, str], bool]] = field(default_factory=list)
    expose: list[Callable[[int, str], bool]] = field(default_factory=list)

    @property
    def implies_all(self) -> bool:
        """A status filter lists stopped containers too, as `-a` does."""
        return bool(self.filters.get("status"))

    def keeps(self, engine: Engine, c: Container, summary: dict) -> bool:
        f = self.filters
        if self.before is not None and not c.created < self.before:
            return False
        if self.since is not None and not c.created > self.since:
            return False
        if "name" in f and not any(patterns.search(v, c.name) or patterns.search(v, "/" + c.name)
                                   for v in f["name"]):
            return False
        if "id" in f and not any(c.id.startswith(v) or patterns.search(v, c.id)
                                 for v in f["id"]):
            return False
        if self.is_task is True:  # no container of this engine is a swarm task
            return False
        if not has_labels(c.config.get("Labels") or {}, f.get("label", [])):
            return False
        isolation = (c.host_config.get("Isolation") or "default").lower()
        if "isolation" in f and not any(patterns.search(v, isolation) for v in f["isolation"]):
            return False
        if self.exited and not (c.state.status == "exited"
                                and c.state.exit_code in self.exited):
            return False
        if "status" in f and views.public_status(c) not in f["status"]:
            return False
        if "health" in f and health.status(c) not in f["health"]:
            return False
        if self.ancestors is not None and c.image_id not in self.ancestors:
            return False
        if "network" in f and not _on_network(summary, f["network"]):
            return False
        if "volume" in f and not _mounts(c, f["volume"]):
            return False
        if self.publish or self.expose:
            ports = summary["Ports"]
            if not any(any(m(p["PublicPort"], p["Type"]) for m in self.publish)
                       for p in ports if "PublicPort" in p) and \
               not any(any(m(p["PrivatePort"], p["Type"]) for m in self.expose) for p in ports):
                return False
        return True


def _mounts(c: Container, wanted: list[str]) -> bool:
    """moby's volume filter: a mount's destination, or its volume's name (a bind's
    source), is one of those wanted."""
    return any(v in (m["Destination"], m["Name"] or m["Source"])
               for m in c.mount_points for v in wanted)


def _on_network(summary: dict, wanted: list[str]) -> bool:
    networks = summary["NetworkSettings"]["Networks"]
    return any(v in networks or any(n["NetworkID"] and n["NetworkID"].startswith(v)
                                    for n in networks.values()) for v in wanted)


def _port_matcher(key: str, value: str) -> Callable[[int, str], bool]:
    """moby's portOp: "80", "80/udp", "8000-8080/tcp"; tcp when no protocol is given."""
    if ":" in value:
        raise InvalidParameter(f"filter for '{key}' should not contain ':': {value}")
    port, _, proto = value.partition("/")
    m = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", port)
    if m is None:
        raise InvalidParameter(f"error while looking up for {key} {value}: "
                               f"invalid port range: {port}")
    start, end = int(m.group(1)), int(m.group(2) or m.group(1))
    proto = proto or "tcp"
    return lambda n, p: start <= n <= end and p == proto


def _bool(filters: dict[str, list[str]], key: str) -> bool | None:
    """moby's GetBoolOrDefault: None if absent; a 400 if both or neither truth."""
    values = filters.get(key)
    if not values:
        return None
    lowered = {v.lower() for v in values}
    is_true, is_false = bool({"1", "true"} & lowered), bool({"0", "false"} & lowered)
    if is_true == is_false:
        raise InvalidParameter(f"invalid filter '{key}=[{' '.join(values)}]'")
    return is_true


def ps_filters(engine: Engine, filters: dict[str, list[str]]) -> PsFilters:
    """The filters (their names already checked against ACCEPTED), values checked and
    names resolved."""
    result = PsFilters(filters)
    for value in filters.get("exited", []):
        try:
            result.exited.append(int(value))
        except ValueError:
            raise InvalidParameter(f"invalid filter 'exited={value}': strconv.Atoi: "
                                   f'parsing "{value}": invalid syntax') from None
    for value in filters.get("status", []):
        if value not in STATES:
            raise InvalidParameter(f"invalid filter 'status={value}'")
    result.is_task = _bool(filters, "is-task")
    for value in filters.get("health", []):
        if value not in HEALTH:
            raise InvalidParameter(f"unrecognized filter value for health: {value}")
    for value in filters.get("before", []):
        result.before = engine.containers.get(value).created  # No such container: 404
    for value in filters.get("since", []):
        result.since = engine.containers.get(value).created
    if "ancestor" in filters:
        result.ancestors = set()
        for value in filters["ancestor"]:
            try:
                result.ancestors.add(engine.images.resolve(value).id)
            except (LookupError, ValueError):
                pass  # moby logs it and goes on: an unknown image is no one's ancestor
    result.publish = [_port_matcher("publish", v) for v in filters.get("publish", [])]
    result.expose = [_port_matcher("expose", v) for v in filters.get("expose", [])]
    return result
