"""`kill`: send a signal (default SIGKILL) to the container's main process."""

from __future__ import annotations

from shared.client.api import Client
from shared.client.commands import for_each
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "kill",
    "[OPTIONS] CONTAINER [CONTAINER...]",
    "Kill one or more running containers",
    [Flag("-s, --signal", "Signal to send to the container", metavar="string")],
    min_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    query = {"signal": options["signal"]}
    return for_each(args, lambda name: client.request("POST", f"/containers/{name}/kill",
                                                      query=query))
