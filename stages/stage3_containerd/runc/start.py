"""`start`: the second half of the OCI lifecycle: created -> running.

    runc start ID

Opens <root>/<id>/exec.fifo for reading. The container's init has been blocked
opening it for writing since `create`; now its open returns, it writes one byte and
execs the container's program. Nothing else is left to do, so `start` is quick: all
the slow work (namespaces, mounts, cgroups) was done at create time.
"""

from __future__ import annotations

import argparse

from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime


def main(argv: list[str], rt: Runtime) -> int:
    p = argparse.ArgumentParser(prog="runc start", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id")
    a = p.parse_args(argv)
    container = Container.load(a.id, rt.state_dir(a.id))
    status = container.status()
    if status == "stopped":
        raise RuncError(f"start {a.id}: cannot start a container that has stopped")
    if status != "created":
        raise RuncError(f"start {a.id}: cannot start an already {status} container")
    container.start()
    return 0
