"""`ps`: the processes of a container, read from its cgroup.

    runc ps --format json ID           [12345, 12378]   (host pids; containerd's form)
    runc ps [--format table] ID [ARGS] the host's `ps ARGS` (default -ef), only those lines

Every process of the container is in its cgroup, whatever namespace it sees: the
cgroup's `cgroup.procs` is the one list that cannot miss a process.
"""

from __future__ import annotations

import json
import subprocess

from shared.flags import Command, Flag
from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime, parse

COMMAND = Command("ps", "[flags] ID [PS_ARGS...]", __doc__.splitlines()[0], [
    Flag("-f, --format", "table or json", metavar="format", default="table")],
                  min_args=1, max_args=None, interspersed=False)


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
    a = parse(COMMAND, argv)
    if a.format not in ("table", "json"):
        raise RuncError(f"invalid format option {a.format!r}: table or json")
    cid, *ps_args = a.arguments
    container = Container.load(cid, rt.state_dir(cid))
    pids = container.processes()
    if a.format == "json":
        print(json.dumps(pids))
    else:
        print(table(pids, ps_args or ["-ef"]))
    return 0
