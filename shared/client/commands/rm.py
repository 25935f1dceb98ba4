"""`rm`: remove containers (-f: kill running ones first)."""

from __future__ import annotations

from shared.client.api import Client
from shared.client.commands import for_each
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "rm",
    "[OPTIONS] CONTAINER [CONTAINER...]",
    "Remove one or more containers",
    [
        Flag("-f, --force", "Force the removal of a running container (uses SIGKILL)"),
        Flag("-v, --volumes", "Remove anonymous volumes associated with the container"),
    ],
    min_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    query = {"force": options["force"], "v": options["volumes"]}
    return for_each(args, lambda name: client.request("DELETE", f"/containers/{name}",
                                                      query=query))
