"""`resume`: thaw a paused container (state: running again).

    runc resume ID
"""

from __future__ import annotations

import argparse

from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime


def main(argv: list[str], rt: Runtime) -> int:
    p = argparse.ArgumentParser(prog="runc resume", description=__doc__)
    p.add_argument("id")
    a = p.parse_args(argv)
    container = Container.load(a.id, rt.state_dir(a.id))
    if container.status() != "paused":
        raise RuncError(f"resume {a.id}: container not paused")
    container.resume()
    return 0
