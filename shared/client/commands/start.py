"""`start`: start stopped containers; with -a, stay attached as `run` does."""

from __future__ import annotations

import sys

from shared.client.api import APIError, Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "start",
    "[OPTIONS] CONTAINER [CONTAINER...]",
    "Start one or more stopped containers",
    [
        Flag("-a, --attach", "Attach STDOUT/STDERR and forward signals"),
        Flag("-i, --interactive", "Attach container's STDIN"),
        Flag("--detach-keys", "Override the key sequence for detaching a container",
             metavar="string"),
    ],
    min_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    if options["attach"] or options["interactive"]:
        if len(args) > 1:
            print("whalebones: you cannot start and attach multiple containers at once",
                  file=sys.stderr)
            return 1
        return _start_attached(client, args[0], stdin=options["interactive"],
                               keys=options["detach_keys"])
    failed = []
    for name in args:
        try:
            client.request("POST", f"/containers/{name}/start")
            print(name)
        except APIError as error:
            print(f"Error response from daemon: {error.message}", file=sys.stderr)
            failed.append(name)
    if failed:
        print(f"Error: failed to start containers: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _start_attached(client: Client, name: str, *, stdin: bool, keys: str | None) -> int:
    from shared.client.session import detach_keys, run_attached

    info = client.request("GET", f"/containers/{name}/json")
    container, config = info["Id"], info["Config"]

    def start() -> None:
        client.request("POST", f"/containers/{container}/start")

    return run_attached(
        client, "whalebones", "start", container,
        tty=config.get("Tty", False),
        stdin=stdin and config.get("OpenStdin", False),
        auto_remove=(info.get("HostConfig") or {}).get("AutoRemove", False),
        start=start,
        keys=detach_keys(keys),
    )
