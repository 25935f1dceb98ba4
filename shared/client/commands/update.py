"""`update`: new resource limits for containers, running or not (written into a
running container's cgroup by the daemon)."""

from __future__ import annotations

from shared.client.api import Client
from shared.client.commands import for_each
from shared.client.containerconfig import unsigned
from shared.flags import Command, Flag, integer, nano_cpus, ram_in_bytes

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

# flag option -> the UpdateConfig field it sets
FIELDS = {"memory": "Memory", "memory_swap": "MemorySwap",
          "memory_reservation": "MemoryReservation", "cpus": "NanoCpus",
          "cpu_shares": "CpuShares", "cpu_period": "CpuPeriod", "cpu_quota": "CpuQuota",
          "cpuset_cpus": "CpusetCpus", "cpuset_mems": "CpusetMems",
          "pids_limit": "PidsLimit", "blkio_weight": "BlkioWeight"}

COMMAND = Command("update", "[OPTIONS] CONTAINER [CONTAINER...]",
                  "Update configuration of one or more containers", [
    Flag("-m, --memory", "Memory limit", metavar="bytes", convert=ram_in_bytes),
    Flag("--memory-swap", "Swap limit equal to memory plus swap: -1 to enable unlimited "
         "swap", metavar="bytes", convert=lambda t: -1 if t == "-1" else ram_in_bytes(t)),
    Flag("--memory-reservation", "Memory soft limit", metavar="bytes", convert=ram_in_bytes),
    Flag("--cpus", "Number of CPUs", metavar="decimal", convert=nano_cpus),
    Flag("-c, --cpu-shares", "CPU shares (relative weight)", metavar="int", convert=integer),
    Flag("--cpu-period", "Limit CPU CFS period", metavar="int", convert=integer),
    Flag("--cpu-quota", "Limit CPU CFS quota", metavar="int", convert=integer),
    Flag("--cpuset-cpus", "CPUs in which to allow execution (0-3, 0,1)", metavar="string"),
    Flag("--cpuset-mems", "MEMs in which to allow execution (0-3, 0,1)", metavar="string"),
    Flag("--pids-limit", "Tune container pids limit (set -1 for unlimited)", metavar="int",
         convert=integer),
    Flag("--blkio-weight", "Block IO (relative weight), between 10 and 1000, or 0 to "
         "disable", metavar="uint16", convert=lambda t: unsigned(t, 16)),
    Flag("--restart", "Restart policy to apply when a container exits", metavar="string"),
], min_args=1)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    body: dict[str, Any] = {field: options[key] for key, field in FIELDS.items()
                            if options.get(key) is not None}
    if options.get("restart"):
        name, _, count = options["restart"].partition(":")
        body["RestartPolicy"] = {"Name": name, "MaximumRetryCount": int(count or 0)}
    return for_each(args, lambda name: client.request("POST", f"/containers/{name}/update",
                                                      body=body))
