"""`exec`: run another process in a running container."""

from __future__ import annotations

import os
import sys

from shared.client.api import Client
from shared.client.containerconfig import BadOption, env_file, environment
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "exec",
    "[OPTIONS] CONTAINER COMMAND [ARG...]",
    "Execute a command in a running container",
    [
        Flag("-d, --detach", "Detached mode: run command in the background"),
        Flag("--detach-keys", "Override the key sequence for detaching a container",
             metavar="string"),
        Flag("-i, --interactive", "Keep STDIN open even if not attached"),
        Flag("-t, --tty", "Allocate a pseudo-TTY"),
        Flag("-e, --env", "Set environment variables", metavar="list", many=True),
        Flag("--env-file", "Read in a file of environment variables", metavar="list",
             many=True),
        Flag("-w, --workdir", "Working directory inside the container", metavar="string"),
        Flag("-u, --user", "Username or UID (format: <name|uid>[:<group|gid>])",
             metavar="string"),
        Flag("--privileged", "Give extended privileges to the command"),
    ],
    min_args=2,
    interspersed=False,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    from shared.client import session

    name, command = args[0], args[1:]
    tty, interactive, detach = options["tty"], options["interactive"], options["detach"]
    if tty and interactive and not detach and not os.isatty(0):
        print("the input device is not a TTY", file=sys.stderr)
        return 1
    try:
        env = [entry for path in options["env_file"] for entry in env_file(path)]
    except BadOption as error:
        print(error, file=sys.stderr)
        return 1
    client.request("GET", f"/containers/{name}/json")  # a clear 404 for unknown names
    keys = session.detach_keys(options["detach_keys"])
    config = {
        "User": options["user"] or "",
        "Privileged": options["privileged"],
        "Tty": tty,
        "AttachStdin": interactive and not detach,
        "AttachStdout": not detach,
        "AttachStderr": not detach,
        "Detach": detach,
        "DetachKeys": keys,
        "Env": env + environment(options["env"]),
        "WorkingDir": options["workdir"] or "",
        "Cmd": command,
    }
    exec_id = client.request("POST", f"/containers/{name}/exec", body=config)["Id"]
    start: dict[str, Any] = {"Detach": detach, "Tty": tty}
    if tty and os.isatty(1):
        size = os.get_terminal_size(1)
        start["ConsoleSize"] = [size.lines, size.columns]
    if detach:
        client.request("POST", f"/exec/{exec_id}/start", body=start)
        return 0

    conn = client.hijack(f"/exec/{exec_id}/start", body=start)
    if session.stream_while_running(
        client, conn, tty=tty, stdin=interactive,
        resize_path=f"/exec/{exec_id}/resize", kill_path=None, keys=keys,
    ):
        # The process runs on. The docker CLI's exec returns the escape proxy's error,
        # printed as any error.
        print("read escape sequence", file=sys.stderr)
        return 1
    # The stream ends when the process does; its exit code is the exec's state.
    return int(client.request("GET", f"/exec/{exec_id}/json").get("ExitCode") or 0)
