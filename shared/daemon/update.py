"""`docker update`: new resource limits for a container, running or not.

As moby's ContainerUpdate (daemon/update.go, container.UpdateContainer): each field
given (non-zero) replaces the record's, under the same rules as at create (validated
by shared/oci/resources.py, as verifyContainerSettings with update=true); the record is
saved, and if the container runs the new limits are written into its cgroup by the
stage's executor (LXC's lxc-cgroup, libcontainer's cgroup manager, `runc update` under
containerd). A failure there restores the record: the cgroup and the record never
disagree. A stopped container gets them at its next start, from the record.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from shared.daemon import restartpolicy
from shared.daemon.executor import ExecutorError
from shared.errors import Conflict, EngineError, InvalidParameter
from shared.oci import runtime_spec
from shared.oci.runtime_spec import SpecError

if TYPE_CHECKING:
    from shared.daemon.engine import Engine

# The fields `docker update` changes, and the part of linux.resources each lands in.
UPDATABLE = {
    "Memory": "memory", "MemorySwap": "memory", "MemoryReservation": "memory",
    "CpuShares": "cpu", "NanoCpus": "cpu", "CpuPeriod": "cpu", "CpuQuota": "cpu",
    "CpusetCpus": "cpu", "CpusetMems": "cpu",
    "PidsLimit": "pids",
    "BlkioWeight": "blockIO",
}
# Given by every client (zero when not asked for): refused only when set.
NOT_UPDATABLE_HERE = (
    "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps", "CpuRealtimePeriod", "CpuRealtimeRuntime", "KernelMemory",
    "KernelMemoryTCP", "MemorySwappiness", "OomKillDisable", "Devices", "DeviceCgroupRules",
    "DeviceRequests", "Ulimits", "CgroupParent", "CpuCount", "CpuPercent",
    "IOMaximumIOps", "IOMaximumBandwidth", "Init",
)


class UpdateFailed(EngineError):
    """The runtime refused the new limits (moby: errdefs.System, a 500)."""

    status = 500


def groups_of(wanted: dict) -> set[str]:
    """The cgroup settings' groups an update changes (a restart policy changes none)."""
    return {UPDATABLE[k] for k in wanted if k in UPDATABLE}


def check_request(body: dict) -> dict:
    """The fields asked for, refused (400) when this engine cannot change them."""
    if not isinstance(body, dict):
        raise InvalidParameter("invalid JSON: the body must be an object")
    for name in NOT_UPDATABLE_HERE:
        if body.get(name):
            raise InvalidParameter(f"docker update: {name} cannot be updated by this engine")
    wanted = {k: body[k] for k in UPDATABLE if body.get(k)}
    if (body.get("RestartPolicy") or {}).get("Name"):  # the CLI sends Name "" otherwise
        restartpolicy.validate({"RestartPolicy": body["RestartPolicy"]})
        wanted["RestartPolicy"] = dict(body["RestartPolicy"])
    if "PidsLimit" in body and body["PidsLimit"] is not None and body["PidsLimit"] <= 0:
        wanted["PidsLimit"] = -1  # 0 or -1: no limit (moby's update)
    try:  # as moby's verifyContainerSettings of the request alone
        runtime_spec.resources(wanted)
    except SpecError as e:
        raise InvalidParameter(str(e)) from None
    return wanted


def merged(current: dict, wanted: dict, cid: str) -> dict:
    """The record's HostConfig with the update's fields (container.UpdateContainer)."""
    def conflict(message: str) -> Conflict:
        # moby's conflictingUpdateOptions: errdefs.Conflict, a 409
        return Conflict(f"Cannot update container {cid}: {message}")

    if wanted.get("NanoCpus") and current.get("CpuPeriod"):
        raise conflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has "
                       "already been set")
    if wanted.get("NanoCpus") and current.get("CpuQuota"):
        raise conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has "
                       "already been set")
    if wanted.get("CpuPeriod") and current.get("NanoCpus"):
        raise conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has "
                       "already been set")
    if wanted.get("CpuQuota") and current.get("NanoCpus"):
        raise conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has "
                       "already been set")
    if (wanted.get("Memory", 0) > (current.get("MemorySwap") or 0)
            and not wanted.get("MemorySwap")):
        raise conflict("Memory limit should be smaller than already set memoryswap limit, "
                       "update the memoryswap at the same time")
    host_config = copy.deepcopy(current)
    host_config.update(wanted)
    return host_config


def update(engine: Engine, ref: str, body: dict) -> list[str]:
    """POST /containers/{id}/update; its Warnings."""
    wanted = check_request(body)
    c = engine.containers.get(ref)
    with engine.lock:
        if engine.is_removed(c):
            raise InvalidParameter(f"Cannot update container {c.id}: container is marked "
                                   'for removal and cannot be "update"')
        before = c.host_config
        if "RestartPolicy" in wanted and before.get("AutoRemove") \
                and wanted["RestartPolicy"].get("Name") not in ("", "no"):
            raise InvalidParameter("Restart policy cannot be updated because AutoRemove is "
                                   "enabled for the container")
        host_config = merged(before, wanted, c.id)
        try:
            resources = runtime_spec.resources(host_config)
        except SpecError as e:
            raise InvalidParameter(f"Cannot update container {c.id}: {e}") from None
        c.host_config = host_config
        engine.containers.save(c)
        if "RestartPolicy" in wanted:
            engine.restart_manager(c).set_policy(host_config)
        if not c.state.running or not groups_of(wanted):
            return []
        # Only the groups of what changed: the rest of the cgroup stays as it is.
        groups = groups_of(wanted)
        changed = {g: v for g, v in resources.items() if g in groups}
        if "pids" in groups and "pids" not in changed:
            changed["pids"] = {"limit": -1}
        if "blockIO" in changed:
            changed["blockIO"] = {"weight": changed["blockIO"]["weight"]}
        try:
            engine.executor.update(c.id, changed)
        except ExecutorError as e:
            c.host_config = before
            engine.containers.save(c)
            raise UpdateFailed(f"Cannot update container {c.id}: {e}") from None
    return []
