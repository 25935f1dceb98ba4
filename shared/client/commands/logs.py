"""`logs`: print what a container wrote, and with -f keep following it."""

from __future__ import annotations

import sys

from shared.client.api import Client
from shared.client.attach import write_all
from shared.client.commands.events import window
from shared.client.streams import STDERR, Demuxer
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "logs",
    "[OPTIONS] CONTAINER",
    "Fetch the logs of a container",
    [
        Flag("-f, --follow", "Follow log output"),
        Flag("--since", "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or "
             "relative (e.g. \"42m\" for 42 minutes)", metavar="string"),
        Flag("--until", "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or "
             "relative (e.g. \"42m\" for 42 minutes)", metavar="string"),
        Flag("-t, --timestamps", "Show timestamps"),
        Flag("-n, --tail", 'Number of lines to show from the end of the logs (default "all")',
             metavar="string"),
    ],
    min_args=1,
    max_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    # Framing depends on how the container was made: a TTY merged its output
    # into one unframed stream. So ask first, as docker does.
    info = client.request("GET", f"/containers/{args[0]}/json")
    query = {
        "stdout": 1,
        "stderr": 1,
        "follow": options["follow"],
        "timestamps": options["timestamps"],
        "tail": options["tail"] or "all",
    }
    try:
        query.update(window(options))
    except ValueError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    response = client.stream("GET", f"/containers/{info['Id']}/logs", query=query)
    demuxer = None if info["Config"].get("Tty") else Demuxer()
    try:
        for data in response.chunks():
            if demuxer is None:
                write_all(1, data)
                continue
            for stream_no, piece in demuxer.feed(data):
                write_all(2 if stream_no == STDERR else 1, piece)
    except BrokenPipeError:
        pass  # `logs | head`: the reader is satisfied
    finally:
        response.close()
    return 0
