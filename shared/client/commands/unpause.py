"""`unpause`: thaw each paused container."""

from __future__ import annotations

from shared.client.commands import for_each
from shared.flags import Command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from shared.client.api import Client

COMMAND = Command("unpause", "CONTAINER [CONTAINER...]",
                  "Unpause all processes within one or more containers", [], min_args=1)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    return for_each(args, lambda name: client.request("POST", f"/containers/{name}/unpause"))
