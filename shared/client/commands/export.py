"""`export`: a container's filesystem as a tar, on stdout or -o."""

from __future__ import annotations

from shared.client.api import Client
from shared.client.commands.save import write_archive
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command("export", "[OPTIONS] CONTAINER",
                  "Export a container's filesystem as a tar archive",
                  [Flag("-o, --output", "Write to a file, instead of STDOUT", metavar="string")],
                  min_args=1, max_args=1)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    return write_archive(client, f"/containers/{args[0]}/export", options["output"])
