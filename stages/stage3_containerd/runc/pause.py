"""`pause`: freeze every process of a running container (state: paused).

    runc pause ID

The freezer cgroup stops the whole group at once; the processes cannot notice
(unlike SIGSTOP, which a parent can see and which init could be sent selectively).
"""

from __future__ import annotations

from shared.flags import Command
from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime, parse

COMMAND = Command("pause", "ID", __doc__.splitlines()[0], [],
                  min_args=1, max_args=1, interspersed=False)


def main(argv: list[str], rt: Runtime) -> int:
    [cid] = parse(COMMAND, argv).arguments
    container = Container.load(cid, rt.state_dir(cid))
    if container.status() != "running":
        raise RuncError(f"pause {cid}: container not running")
    container.pause()
    return 0
