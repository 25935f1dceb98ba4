"""`restart`: stop (with a grace period) and start again."""

from __future__ import annotations

from shared.client.api import Client
from shared.client.commands import for_each
from shared.flags import Command, Flag, integer

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "restart",
    "[OPTIONS] CONTAINER [CONTAINER...]",
    "Restart one or more containers",
    [
        Flag("-s, --signal", "Signal to send to the container", metavar="string"),
        Flag("-t, --timeout", "Seconds to wait before killing the container", metavar="int",
             convert=integer),
    ],
    min_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    query = {"t": options["timeout"], "signal": options["signal"]}
    return for_each(args, lambda name: client.request("POST", f"/containers/{name}/restart",
                                                      query=query))
