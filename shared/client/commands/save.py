"""`save`: images to a tar (docker-archive and OCI layout at once), on stdout or -o."""

from __future__ import annotations

import os
import sys

from shared.client.api import Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "save",
    "[OPTIONS] IMAGE [IMAGE...]",
    "Save one or more images to a tar archive (streamed to STDOUT by default)",
    [Flag("-o, --output", "Write to a file, instead of STDOUT", metavar="string")],
    min_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    if not options["output"] and os.isatty(1):
        print("cowardly refusing to save to a terminal. Use the -o flag or redirect",
              file=sys.stderr)
        return 1
    query = "&".join(f"names={_quote(name)}" for name in args)
    response = client.stream("GET", f"/images/get?{query}")
    if options["output"]:
        with open(options["output"], "wb") as out:
            for chunk in response.chunks():
                out.write(chunk)
    else:
        for chunk in response.chunks():
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    return 0


def _quote(text: str) -> str:
    from shared.client.api import quote

    return quote(text)
