"""`diff`: what a container changed in its filesystem, one `KIND PATH` line each."""

from __future__ import annotations

from shared.client.api import Client
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command("diff", "CONTAINER",
                  "Inspect changes to files or directories on a container's filesystem",
                  [], min_args=1, max_args=1)
KINDS = {0: "C", 1: "A", 2: "D"}  # moby's archive.ChangeType


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    for change in client.request("GET", f"/containers/{args[0]}/changes") or []:
        print(f"{KINDS.get(change['Kind'], '?')} {change['Path']}")
    return 0
