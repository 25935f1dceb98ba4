"""`export`: a container's filesystem as a tar, on stdout or -o."""

from __future__ import annotations

import os
import sys

from shared.client.api import Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command("export", "[OPTIONS] CONTAINER",
                  "Export a container's filesystem as a tar archive",
                  [Flag("-o, --output", "Write to a file, instead of STDOUT", metavar="string")],
                  min_args=1, max_args=1)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    if not options["output"] and os.isatty(1):
        print("cowardly refusing to save to a terminal. Use the -o flag or redirect",
              file=sys.stderr)
        return 1
    response = client.stream("GET", f"/containers/{args[0]}/export")
    if options["output"]:
        with open(options["output"], "wb") as out:
            for chunk in response.chunks():
                out.write(chunk)
    else:
        for chunk in response.chunks():
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    return 0
