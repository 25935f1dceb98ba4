"""`start`: the second half of the OCI lifecycle: created -> running.

    runc start ID

Opens <root>/<id>/exec.fifo for reading. The container's init has been blocked
opening it for writing since `create`; now its open returns, it writes one byte and
execs the container's program. Nothing else is left to do, so `start` is quick: all
the slow work (namespaces, mounts, cgroups) was done at create time.
"""

from __future__ import annotations

from shared.flags import Command
from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime, parse

COMMAND = Command("start", "ID", __doc__.splitlines()[0], [],
                  min_args=1, max_args=1, interspersed=False)


def main(argv: list[str], rt: Runtime) -> int:
    [cid] = parse(COMMAND, argv).arguments
    container = Container.load(cid, rt.state_dir(cid))
    status = container.status()
    if status == "stopped":
        raise RuncError(f"start {cid}: cannot start a container that has stopped")
    if status != "created":
        raise RuncError(f"start {cid}: cannot start an already {status} container")
    container.start(rt.log.warning)
    return 0
