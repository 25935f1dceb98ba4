"""`update`: change the resource limits of a container that exists.

    runc update --resources FILE|- ID      linux.resources JSON (containerd sends it on stdin)
    runc update [--memory N] [--pids-limit N] [--cpu-shares N] [--cpu-quota N]
                [--cpu-period N] ID

A limit is a number written into a cgroup file, so changing it is writing again;
the processes keep running. Only memory, pids and cpu are supported here (the
controllers stage 2's libcontainer sets); anything else in the JSON is an error.
"""

from __future__ import annotations

import argparse
import json
import sys

from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime

SUPPORTED = ("memory", "pids", "cpu")


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


def main(argv: list[str], rt: Runtime) -> int:
    p = argparse.ArgumentParser(prog="runc update", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--resources", "-r", default="", help="JSON file, or - for stdin")
    p.add_argument("--memory", type=size)
    p.add_argument("--pids-limit", type=int)
    p.add_argument("--cpu-shares", type=int)
    p.add_argument("--cpu-quota", type=int)
    p.add_argument("--cpu-period", type=int)
    p.add_argument("id")
    a = p.parse_args(argv)
    resources = read_resources(a.resources) if a.resources else {}
    unsupported = sorted(k for k, v in resources.items() if v and k not in SUPPORTED)
    if unsupported:
        raise RuncError(f"update {a.id}: only {', '.join(SUPPORTED)} can be updated, "
                        f"not {', '.join(unsupported)}")
    flags = {("memory", "limit"): a.memory, ("pids", "limit"): a.pids_limit,
             ("cpu", "shares"): a.cpu_shares, ("cpu", "quota"): a.cpu_quota,
             ("cpu", "period"): a.cpu_period}
    for (group, key), value in flags.items():
        if value is not None:
            resources.setdefault(group, {})[key] = value
    container = Container.load(a.id, rt.state_dir(a.id))
    if container.status() == "stopped":
        raise RuncError(f"update {a.id}: container not running")
    # The cgroup manager's create() makes what is missing and writes every limit given.
    container.cgroup.create({k: v for k, v in resources.items() if k in SUPPORTED})
    return 0
