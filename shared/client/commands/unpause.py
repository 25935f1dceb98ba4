"""`unpause`: thaw each paused container."""

from __future__ import annotations

from shared.client.api import Client
from shared.client.commands import for_each
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command("unpause", "CONTAINER [CONTAINER...]",
                  "Unpause all processes within one or more containers", [], min_args=1)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    return for_each(args, lambda name: client.request("POST", f"/containers/{name}/unpause"))
