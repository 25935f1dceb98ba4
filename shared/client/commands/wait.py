"""`wait`: block until containers stop; print each exit code."""

from __future__ import annotations

import sys

from shared.client.api import APIError, Client
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "wait",
    "CONTAINER [CONTAINER...]",
    "Block until one or more containers stop, then print their exit codes",
    [],
    min_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    status = 0
    for name in args:
        try:
            print(client.request("POST", f"/containers/{name}/wait")["StatusCode"])
        except APIError as error:
            print(f"Error response from daemon: {error.message}", file=sys.stderr)
            status = 1
    return status
