"""`attach`: connect our terminal to a running container's streams."""

from __future__ import annotations

import sys

from shared.client.api import Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "attach",
    "[OPTIONS] CONTAINER",
    "Attach local standard input, output, and error streams to a running container",
    [
        Flag("--detach-keys", "Override the key sequence for detaching a container",
             metavar="string"),
        Flag("--no-stdin", "Do not attach STDIN"),
        Flag("--sig-proxy", "Proxy all received signals to the process", default=True),
    ],
    min_args=1,
    max_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    from shared.client import session

    info = client.request("GET", f"/containers/{args[0]}/json")
    container, config = info["Id"], info["Config"]
    if not info["State"]["Running"]:
        print("You cannot attach to a stopped container, start it first", file=sys.stderr)
        return 1
    stdin = config.get("OpenStdin", False) and not options["no_stdin"]
    tty = config.get("Tty", False)
    keys = session.detach_keys(options["detach_keys"])
    conn = session.attach_container(client, container, stdin=stdin, keys=keys)
    if session.stream_while_running(
        client, conn, tty=tty, stdin=stdin,
        resize_path=f"/containers/{container}/resize",
        kill_path=f"/containers/{container}/kill" if options["sig_proxy"] else None,
        keys=keys,
    ):
        # The docker CLI's attach returns the escape proxy's error, printed as any error
        # (`run -it` and `start -ai` detach quietly)
        print("read escape sequence", file=sys.stderr)
        return 1
    # The stream ended: the container stopped (or its output closed). Ask how it went.
    result = client.request("POST", f"/containers/{container}/wait")
    return int(result.get("StatusCode", 0))
