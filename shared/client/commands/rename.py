"""`rename`: give a container another name (the daemon's name index, and its networks'
DNS, follow)."""

from __future__ import annotations

import sys

from shared.client.api import APIError, Client
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command("rename", "CONTAINER NEW_NAME", "Rename a container", [],
                  min_args=2, max_args=2)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    old, new = args
    try:
        client.request("POST", f"/containers/{old}/rename", query={"name": new})
    except APIError as error:
        # the docker CLI's two lines: the daemon's words, then its own
        print(f"Error response from daemon: {error.message}", file=sys.stderr)
        print(f"Error: failed to rename container named {old}", file=sys.stderr)
        return 1
    return 0
