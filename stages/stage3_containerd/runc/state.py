"""`state`: the OCI runtime's one query: what is this container now?

    runc state ID   ->   {"ociVersion", "id", "pid", "status", "bundle", "rootfs",
                          "created", "annotations", "owner"}

status is created, running, paused or stopped. libcontainer works it out from the
kernel each time (is init's pid still the process we started, is exec.fifo still
there), so a container whose init died while nobody was looking reads `stopped`.
"""

from __future__ import annotations

import json

from shared.flags import Command
from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import Runtime, parse

COMMAND = Command("state", "ID", __doc__.splitlines()[0], [],
                  min_args=1, max_args=1, interspersed=False)


def oci_state(rt: Runtime, container: Container) -> dict:
    state = container.state()
    state["bundle"] = rt.bundle(container.id) or state["bundle"]
    state["owner"] = ""  # runc names the owner only for rootless containers
    return state


def main(argv: list[str], rt: Runtime) -> int:
    [cid] = parse(COMMAND, argv).arguments
    container = Container.load(cid, rt.state_dir(cid))
    print(json.dumps(oci_state(rt, container), indent=2))
    return 0
