"""`ps`: the processes of a container, read from its cgroup.

    runc ps --format json ID           [12345, 12378]   (host pids; containerd's form)
    runc ps [--format table] ID [ARGS] the host's `ps ARGS` (default -ef), only those lines

Every process of the container is in its cgroup, whatever namespace it sees: the
cgroup's `cgroup.procs` is the one list that cannot miss a process.
"""

from __future__ import annotations

import argparse
import json
import subprocess

from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime


def table(pids: list[int], ps_args: list[str]) -> str:
    """runc's way: run the host's ps, keep the header and the container's lines."""
    out = subprocess.run(["ps", *ps_args], capture_output=True, text=True, check=True).stdout
    header, *lines = out.splitlines()
    try:
        column = header.split().index("PID")
    except ValueError:
        raise RuncError(f"ps {' '.join(ps_args)}: no PID column in its output") from None
    wanted = {str(pid) for pid in pids}
    return "\n".join([header, *(line for line in lines if line.split()[column] in wanted)])


def main(argv: list[str], rt: Runtime) -> int:
    p = argparse.ArgumentParser(prog="runc ps", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--format", "-f", choices=["table", "json"], default="table")
    p.add_argument("id")
    p.add_argument("ps_args", nargs=argparse.REMAINDER, help="options for ps (default -ef)")
    a = p.parse_args(argv)
    container = Container.load(a.id, rt.state_dir(a.id))
    pids = container.processes()
    if a.format == "json":
        print(json.dumps(pids))
    else:
        print(table(pids, a.ps_args or ["-ef"]))
    return 0
