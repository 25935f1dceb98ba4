"""`run`: create a container, attach to it, start it, and exit with its status."""

from __future__ import annotations

import os
import sys

from shared.client import containerconfig
from shared.client.api import APIError, Client
from shared.client.portspecs import PortSpecError
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

PROGRAM = "whalebones"

COMMAND = Command(
    "run",
    "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    "Create and run a new container from an image",
    [Flag("-d, --detach", "Run container in background and print container ID"),
     Flag("--detach-keys", "Override the key sequence for detaching a container",
          metavar="string"),
     *containerconfig.FLAGS],
    min_args=1,
    interspersed=False,  # everything after IMAGE is the container's command line
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    image, command = args[0], args[1:]
    tty, interactive, detach = options["tty"], options["interactive"], options["detach"]
    if tty and interactive and not detach and not os.isatty(0):
        print("the input device is not a TTY", file=sys.stderr)
        return 1

    try:
        body = containerconfig.build(options, image, command, attach=not detach)
    except (PortSpecError, containerconfig.BadOption) as error:
        return containerconfig.report_bad_config(PROGRAM, "run", error)
    if tty and not detach and os.isatty(1):
        size = os.get_terminal_size(1)
        body["HostConfig"]["ConsoleSize"] = [size.lines, size.columns]
    try:
        container = containerconfig.create_or_pull(client, options["name"], body, image)
    except containerconfig.PullFailed:
        return 125
    except APIError as error:
        return containerconfig.report_create_error(PROGRAM, "run", image, error)

    def start() -> None:
        client.request("POST", f"/containers/{container}/start")

    if detach:
        from shared.client.session import report_start_error

        try:
            start()
        except APIError as error:
            return report_start_error(PROGRAM, "run", error)
        print(container)
        return 0

    from shared.client.session import detach_keys, run_attached

    return run_attached(
        client, PROGRAM, "run", container,
        tty=tty, stdin=interactive, auto_remove=options["rm"], start=start,
        keys=detach_keys(options["detach_keys"]),
    )
