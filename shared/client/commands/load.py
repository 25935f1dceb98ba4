"""`load`: images from a tar (docker-archive or OCI layout), from stdin or -i."""

from __future__ import annotations

import os
import sys

from shared.client.api import Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "load",
    "[OPTIONS]",
    "Load an image from a tar archive or STDIN",
    [
        Flag("-i, --input", "Read from tar archive file, instead of STDIN", metavar="string"),
        Flag("-q, --quiet", "Suppress the load output"),
    ],
    max_args=0,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    from shared.client.jsonstream import Display, StreamError, send_file

    if not options["input"] and os.isatty(0):
        print("requested load from stdin, but stdin is empty", file=sys.stderr)
        return 1
    source = open(options["input"], "rb") if options["input"] else sys.stdin.buffer  # noqa: SIM115
    with source:
        response = send_file(client, "POST", "/images/load",
                             source, query={"quiet": options["quiet"]})
    try:
        Display(sys.stdout, terminal=False).follow(response)
    except StreamError as error:
        print(str(error), file=sys.stderr)
        return 1
    return 0
