"""`pause`: freeze every process of a running container (state: paused).

    runc pause ID

The freezer cgroup stops the whole group at once; the processes cannot notice
(unlike SIGSTOP, which a parent can see and which init could be sent selectively).
"""

from __future__ import annotations

import argparse

from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime


def main(argv: list[str], rt: Runtime) -> int:
    p = argparse.ArgumentParser(prog="runc pause", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id")
    a = p.parse_args(argv)
    container = Container.load(a.id, rt.state_dir(a.id))
    if container.status() != "running":
        raise RuncError(f"pause {a.id}: container not running")
    container.pause()
    return 0
