"""`spec`: write a starter config.json, to edit by hand: the way into the OCI spec.

    runc spec [--bundle DIR]

It is Docker's default spec (the one every stage hands its runtime), with what
`runc spec` puts in for an interactive start: args ["sh"], a terminal, and the root
filesystem at "rootfs" beside config.json, read-only. Put a root filesystem there,
then `runc run ID`.
"""

from __future__ import annotations

import json
import os

from shared.flags import Command, Flag
from shared.oci.defaults import default_spec
from stages.stage3_containerd.runc.runtime import RuncError, Runtime, parse

COMMAND = Command("spec", "[flags]", __doc__.splitlines()[0], [
    Flag("-b, --bundle", "where to write config.json", metavar="dir", default="."),
], max_args=0)


def starter_spec() -> dict:
    spec = default_spec()
    spec["process"].update(terminal=True, args=["sh"])
    spec["process"]["env"].append("TERM=xterm")
    spec["root"] = {"path": "rootfs", "readonly": True}
    spec["hostname"] = "runc"
    return spec


def main(argv: list[str], rt: Runtime) -> int:
    a = parse(COMMAND, argv)
    path = os.path.join(a.bundle, "config.json")
    try:
        with open(path, "x") as f:  # "x": never overwrite someone's edits
            json.dump(starter_spec(), f, indent="\t")
    except FileExistsError:
        raise RuncError(f"spec: File {path} exists. Remove it first") from None
    return 0
