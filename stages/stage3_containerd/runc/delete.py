"""`delete`: the end of the OCI lifecycle: remove what is left of a container.

    runc delete [--force] ID

For a stopped container: the cgroup and the state directory. A container that was
created but never started is killed first (nothing of the user's has run yet). A
running or paused one is refused unless --force, which kills it with SIGKILL.

Reaping the dead init is not ours to do: its parent (the subreaper) waits for it.
"""

from __future__ import annotations

import argparse
import shutil

from stages.stage2_libcontainer.libcontainer import Container, ContainerError
from stages.stage3_containerd.runc.runtime import RuncError, Runtime


def main(argv: list[str], rt: Runtime) -> int:
    p = argparse.ArgumentParser(prog="runc delete", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--force", "-f", action="store_true", help="kill it first if it runs")
    p.add_argument("id")
    a = p.parse_args(argv)
    state_dir = rt.state_dir(a.id)
    try:
        container = Container.load(a.id, state_dir)
    except ContainerError:
        if not a.force:
            raise
        # A create that died half-way can leave a directory without state.json.
        shutil.rmtree(state_dir, ignore_errors=True)
        return 0
    status = container.status()
    if status in ("running", "paused") and not a.force:
        raise RuncError(f"cannot delete container {a.id} that is not stopped: {status}")
    container.destroy()
    return 0
