"""`update`: change the resource limits of a container that exists.

    runc update --resources FILE|- ID      linux.resources JSON (containerd sends it on stdin)
    runc update [--memory N] [--pids-limit N] [--cpu-shares N] [--cpu-quota N]
                [--cpu-period N] ID

A limit is a number written into a cgroup file, so changing it is writing again;
the processes keep running. Only memory, pids, cpu and blockIO are supported here (the
controllers stage 2's libcontainer sets); anything else in the JSON is an error.
"""

from __future__ import annotations

import json
import sys

from shared.flags import Command, Flag
from stages.stage2_libcontainer.libcontainer import Container, specconv
from stages.stage3_containerd.runc.runtime import RuncError, Runtime, parse

SUPPORTED = ("memory", "pids", "cpu", "blockIO")


def read_resources(source: str) -> dict:
    try:
        if source == "-":
            return json.load(sys.stdin)
        with open(source) as f:
            return json.load(f)
    except ValueError as e:
        raise RuncError(f"read resources from {source}: {e}") from None


def size(text: str) -> int:
    """100000, 64k, 256m, 1g (powers of 1024, as runc takes them)."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower().removesuffix("b")
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


COMMAND = Command("update", "[flags] ID", __doc__.splitlines()[0], [
    Flag("-r, --resources", "JSON file, or - for stdin", metavar="file", default=""),
    Flag("--memory", "memory limit (bytes, or 64k, 256m, 1g)", metavar="size", convert=size),
    Flag("--pids-limit", "maximum number of processes", metavar="n", convert=int),
    Flag("--cpu-shares", "relative CPU weight", metavar="n", convert=int),
    Flag("--cpu-quota", "CPU time per period (µs)", metavar="n", convert=int),
    Flag("--cpu-period", "CFS period (µs)", metavar="n", convert=int),
], min_args=1, max_args=1, interspersed=False)


def main(argv: list[str], rt: Runtime) -> int:
    a = parse(COMMAND, argv)
    [cid] = a.arguments
    resources = read_resources(a.resources) if a.resources else {}
    unsupported = sorted(k for k, v in resources.items() if v and k not in SUPPORTED)
    if unsupported:
        raise RuncError(f"update {cid}: only {', '.join(SUPPORTED)} can be updated, "
                        f"not {', '.join(unsupported)}")
    flags = {("memory", "limit"): a.memory, ("pids", "limit"): a.pids_limit,
             ("cpu", "shares"): a.cpu_shares, ("cpu", "quota"): a.cpu_quota,
             ("cpu", "period"): a.cpu_period}
    for (group, key), value in flags.items():
        if value is not None:
            resources.setdefault(group, {})[key] = value
    container = Container.load(cid, rt.state_dir(cid))
    if container.status() == "stopped":
        raise RuncError(f"update {cid}: container not running")
    # The cgroup manager's create() makes what is missing and writes every limit given.
    container.cgroup.create(specconv.to_resources(
        {k: v for k, v in resources.items() if k in SUPPORTED}, "resources"))
    return 0
