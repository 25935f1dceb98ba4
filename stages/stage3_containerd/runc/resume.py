"""`resume`: thaw a paused container (state: running again).

    runc resume ID
"""

from __future__ import annotations

from shared.flags import Command
from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime, parse

COMMAND = Command("resume", "ID", __doc__.splitlines()[0], [],
                  min_args=1, max_args=1, interspersed=False)


def main(argv: list[str], rt: Runtime) -> int:
    [cid] = parse(COMMAND, argv).arguments
    container = Container.load(cid, rt.state_dir(cid))
    if container.status() != "paused":
        raise RuncError(f"resume {cid}: container not paused")
    container.resume()
    return 0
