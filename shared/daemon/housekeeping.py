"""Housekeeping of containers: `docker rename` and `docker container prune`.

Both are moby's (daemon/rename.go, daemon/prune.go ContainerPrune): a rename takes the
new name in the name index atomically and tells the container's networks, whose DNS
answers the new name from then on; a prune removes every container that is not running
and that its filters do not spare, and reports what it freed.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from shared.errors import EngineError, InvalidParameter
from shared.images import snapshots

if TYPE_CHECKING:  # (the API layer parses the filters; the daemon only asks them)
    from shared.api.prunefilters import PruneFilters
    from shared.daemon.engine import Engine


def rename(engine: Engine, ref: str, new: str) -> None:
    ref, new = ref.strip(), new.strip()
    if not ref.lstrip("/") or not new.lstrip("/"):
        raise InvalidParameter("Neither old nor new names may be empty")
    c = engine.containers.get(ref)
    with engine.lock:  # a start reads the name for its sandbox: not half-way through one
        if c.name == new.lstrip("/"):
            raise InvalidParameter(
                "Renaming a container with the same name as its current name")
        old = engine.containers.rename(c, new)
        # Not running: no sandbox, and the next start makes it under the new name.
        engine.networking.rename(c.id, c.name)
    engine.events.container(c, "rename", oldName="/" + old.lstrip("/"))


def prune(engine: Engine, filters: PruneFilters) -> dict:
    """POST /containers/prune: (ContainersDeleted, SpaceReclaimed) as moby answers."""
    deleted: list[str] = []
    reclaimed = 0
    for c in engine.containers.all():
        if c.state.running or c.state.status == "starting":
            continue
        if filters.spares(c.config.get("Labels") or {}, c.created):
            continue
        size = 0
        with contextlib.suppress(OSError):  # only informational, as in moby
            size = snapshots.written_size(engine.containers.dir(c.id))
        try:
            engine.remove(c.id)
        except EngineError:
            continue  # started or removed meanwhile: moby logs it and goes on
        deleted.append(c.id)
        reclaimed += size
    engine.events.log("container", "prune", "", {"reclaimed": str(reclaimed)})
    return {"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed}
