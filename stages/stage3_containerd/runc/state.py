"""`state`: the OCI runtime's one query: what is this container now?

    runc state ID   ->   {"ociVersion", "id", "pid", "status", "bundle", "rootfs",
                          "created", "annotations", "owner"}

status is created, running, paused or stopped. libcontainer works it out from the
kernel each time (is init's pid still the process we started, is exec.fifo still
there), so a container whose init died while nobody was looking reads `stopped`.
"""

from __future__ import annotations

import argparse
import json

from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import Runtime


def oci_state(rt: Runtime, container: Container) -> dict:
    state = container.state()
    state["bundle"] = rt.bundle(container.id) or state["bundle"]
    state["owner"] = ""  # runc names the owner only for rootless containers
    return state


def main(argv: list[str], rt: Runtime) -> int:
    p = argparse.ArgumentParser(prog="runc state", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("id")
    a = p.parse_args(argv)
    container = Container.load(a.id, rt.state_dir(a.id))
    print(json.dumps(oci_state(rt, container), indent=2))
    return 0
