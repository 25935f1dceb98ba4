"""`list`: every container under --root, with its state.

    runc list [--format table|json] [--quiet]

There is no daemon to ask: runc's memory is the directories under --root, and each
status is worked out afresh from the kernel.
"""

from __future__ import annotations

import json

from shared.flags import Command, Flag
from stages.stage2_libcontainer.libcontainer import Container, ContainerError
from stages.stage3_containerd.runc.runtime import RuncError, Runtime, parse
from stages.stage3_containerd.runc.state import oci_state

COMMAND = Command("list", "[flags]", __doc__.splitlines()[0], [
    Flag("-f, --format", "table or json", metavar="format", default="table"),
    Flag("-q, --quiet", "IDs only"),
], max_args=0)


def main(argv: list[str], rt: Runtime) -> int:
    a = parse(COMMAND, argv)
    if a.format not in ("table", "json"):
        raise RuncError(f"invalid format option {a.format!r}: table or json")
    states = []
    for cid in rt.ids():
        try:
            states.append(oci_state(rt, Container.load(cid, rt.state_dir(cid))))
        except ContainerError:
            continue  # deleted meanwhile
    if a.quiet:
        print("\n".join(s["id"] for s in states))
    elif a.format == "json":
        print(json.dumps(states))
    else:
        rows = [("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
        rows += [(s["id"], str(s["pid"]), s["status"], s["bundle"], s["created"], s["owner"])
                 for s in states]
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(len(rows[0]) - 1)]
        for r in rows:
            print("".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + r[-1])
    return 0
