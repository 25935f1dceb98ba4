"""`delete`: the end of the OCI lifecycle: remove what is left of a container.

    runc delete [--force] ID

For a stopped container: the cgroup and the state directory. A container that was
created but never started is killed first (nothing of the user's has run yet). A
running or paused one is refused unless --force, which kills it with SIGKILL.

Reaping the dead init is not ours to do: its parent (the subreaper) waits for it.
"""

from __future__ import annotations

from shared.flags import Command, Flag
from stages.stage2_libcontainer.libcontainer import Container, ContainerError
from stages.stage2_libcontainer.libcontainer.container import remove_state_dir
from stages.stage3_containerd.runc.runtime import RuncError, Runtime, parse

COMMAND = Command("delete", "[flags] ID", __doc__.splitlines()[0],
                  [Flag("-f, --force", "kill it first if it runs")],
                  min_args=1, max_args=1, interspersed=False)


def main(argv: list[str], rt: Runtime) -> int:
    a = parse(COMMAND, argv)
    [cid] = a.arguments
    state_dir = rt.state_dir(cid)
    try:
        container = Container.load(cid, state_dir)
    except ContainerError:
        if not a.force:
            raise
        # A create that died half-way can leave a directory without state.json.
        remove_state_dir(state_dir)
        return 0
    status = container.status()
    if status in ("running", "paused") and not a.force:
        raise RuncError(f"cannot delete container {cid} that is not stopped: {status}")
    container.destroy(rt.log.warning)
    return 0
