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
    query = "&".join(f"names={_quote(name)}" for name in args)
    return write_archive(client, f"/images/get?{query}", options["output"])


def write_archive(client: Client, path: str, output: str | None) -> int:
    """A tar the daemon streams (save, export) into `output`, or stdout: never onto a
    terminal, where binary would garble it, as docker's CLI refuses."""
    if not output and os.isatty(1):
        print("cowardly refusing to save to a terminal. Use the -o flag or redirect",
              file=sys.stderr)
        return 1
    response = client.stream("GET", path)
    if output:
        with open(output, "wb") as out:
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
