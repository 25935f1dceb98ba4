"""`tag`: give an image another name."""

from __future__ import annotations

from shared.client.api import Client
from shared.client.commands.pull import split_name
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "tag",
    "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
    "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    [],
    min_args=2,
    max_args=2,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    _, repository, tag = split_name(args[1])
    client.request("POST", f"/images/{args[0]}/tag",
                   query={"repo": repository, "tag": tag or "latest"})
    return 0
