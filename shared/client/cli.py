"""`whalebones`: a docker-compatible command line for the Engine API.

    whalebones [-H unix:///path] VERB [OPTIONS] [ARGS...]

Each verb lives in its own module under `commands/`, imported only when used: a
CLI call pays for the code of one verb, not twenty. A verb module provides

    COMMAND   a flags.Command: its flags, argument counts and help
    run(client, options, args) -> int   the exit status

or, for a group of sub-verbs (`network ls`), SUBCOMMANDS: word -> (Command, run)
and help_text(program).

Exit statuses follow docker: 125 for a bad command line or a daemon that refuses to
create/start a container, 1 for other errors, else what the command decides.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from shared.flags import Command

PROGRAM = "whalebones"
HOST_ENV = "WHALEBONES_HOST"

# verb -> one-line summary (kept here so `whalebones --help` imports no verb module)
VERBS = {
    "run": "Create and run a new container from an image",
    "exec": "Execute a command in a running container",
    "ps": "List containers",
    "images": "List images",
    "logs": "Fetch the logs of a container",
    "events": "Get real time events from the server",
    "create": "Create a new container",
    "start": "Start one or more stopped containers",
    "attach": "Attach local standard input, output, and error streams to a running container",
    "wait": "Block until one or more containers stop, then print their exit codes",
    "stop": "Stop one or more running containers",
    "kill": "Kill one or more running containers",
    "pause": "Pause all processes within one or more containers",
    "top": "Display the running processes of a container",
    "cp": "Copy files/folders between a container and the local filesystem",
    "build": "Build an image from a Dockerfile",
    "commit": "Create a new image from a container's changes",
    "diff": "Inspect changes to files or directories on a container's filesystem",
    "export": "Export a container's filesystem as a tar archive",
    "unpause": "Unpause all processes within one or more containers",
    "restart": "Restart one or more containers",
    "rename": "Rename a container",
    "update": "Update configuration of one or more containers",
    "rm": "Remove one or more containers",
    "rmi": "Remove one or more images",
    "pull": "Download an image from a registry",
    "push": "Upload an image to a registry",
    "login": "Log in to a registry",
    "logout": "Log out from a registry",
    "save": "Save one or more images to a tar archive (streamed to STDOUT by default)",
    "load": "Load an image from a tar archive or STDIN",
    "import": "Import the contents from a tarball to create a filesystem image",
    "tag": "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    "port": "List port mappings or a specific mapping for the container",
    "network": "Manage networks",
    "volume": "Manage volumes",
    "history": "Show the history of an image",
    "inspect": "Return low-level information on Docker objects",
    "version": "Show the Docker version information",
    "info": "Display system-wide information",
}


def usage() -> str:
    lines = [
        f"Usage:  {PROGRAM} [OPTIONS] COMMAND",
        "",
        "A self-sufficient runtime for containers, rebuilt in Python to learn from",
        "",
        "Options:",
        "  -H, --host string   Daemon socket to connect to "
        f"(default ${HOST_ENV} or unix:///run/whalebones/docker.sock)",
        "",
        "Commands:",
    ]
    lines += [f"  {verb:<9} {summary}" for verb, summary in VERBS.items()]
    lines += ["", f"Run '{PROGRAM} COMMAND --help' for more information on a command."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    host = os.environ.get(HOST_ENV) or ""

    # Global flags come before the verb.
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag in ("-H", "--host") and args:
            host = args.pop(0)
        elif flag.startswith(("--host=", "-H=")):
            host = flag.partition("=")[2]
        elif flag.startswith("-H") and len(flag) > 2:
            host = flag[2:]
        elif flag in ("-h", "--help"):
            sys.stdout.write(usage())
            return 0
        elif flag in ("-v", "--version"):
            from shared.client.api import API_VERSION

            print(f"Whalebones CLI, API version {API_VERSION}")
            return 0
        else:
            return _usage_error(f"unknown flag: {flag}", f"Run '{PROGRAM} --help'")
    if not args:
        sys.stdout.write(usage())
        return 0
    verb, args = args[0], args[1:]
    if verb not in VERBS:
        print(f"{PROGRAM}: unknown command: {PROGRAM} {verb}\n", file=sys.stderr)
        print(f"Run '{PROGRAM} --help' for more information", file=sys.stderr)
        return 1

    module = __import__(f"shared.client.commands.{verb}", fromlist=["COMMAND"])
    if hasattr(module, "SUBCOMMANDS"):
        # A group (`network ls`): the word after the verb picks the command.
        if not args or args[0] in ("-h", "--help"):
            # Bare `docker network` shows the same help, but on stderr.
            out = sys.stdout if args else sys.stderr
            out.write(module.help_text(PROGRAM))
            return 0
        if args[0] not in module.SUBCOMMANDS:
            print(f"{PROGRAM}: unknown command: {PROGRAM} {verb} {args[0]}\n\n"
                  f"Usage:  {PROGRAM} {verb}\n\n"
                  f"Run '{PROGRAM} {verb} --help' for more information", file=sys.stderr)
            return 1
        command, run = module.SUBCOMMANDS[args[0]]
        args = args[1:]
    else:
        command, run = module.COMMAND, module.run
    name = command.name  # "port", "network ls": what messages call the command

    from shared.flags import UsageError

    try:
        options, positional = command.parse(args)
    except UsageError as error:
        return _usage_error(str(error), f"Run '{PROGRAM} {name} --help'", command)
    if options.get("help"):
        sys.stdout.write(command.help_text(PROGRAM))
        return 0
    wrong_count = _argument_count_error(command, len(positional))
    if wrong_count:
        print(wrong_count, file=sys.stderr)
        return 1

    from shared.client.api import APIError, Client, DaemonUnreachable, ProtocolError

    try:
        client = Client(host or _default_host())
        return run(client, options, positional)
    except DaemonUnreachable as error:
        print(error, file=sys.stderr)
        return 1
    except APIError as error:
        print(f"Error response from daemon: {error.message}", file=sys.stderr)
        return 1
    except ProtocolError as error:
        print(f"error during connect: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _default_host() -> str:
    from shared.client.api import DEFAULT_HOST

    return DEFAULT_HOST


def _argument_count_error(command: Command, count: int) -> str:
    """Too few or too many arguments, in the words of docker's cobra checks (which
    say "See" for one of them and "Run" for the others); "" if the count is fine."""
    low, high = command.min_args, command.max_args
    if low <= count and (high is None or count <= high):
        return ""

    def arguments(n: int) -> str:
        return f"{n} argument" if n == 1 else f"{n} arguments"

    see = "Run"
    if high == 0:
        wrong = "accepts no arguments"
    elif low == high:
        wrong = f"requires {arguments(low)}"
    elif high is None:
        wrong, see = f"requires at least {arguments(low)}", "See"
    elif low == 0:
        wrong = f"requires at most {arguments(high)}"
    else:
        wrong = f"requires at least {low} and at most {arguments(high)}"
    path = f"{PROGRAM} {command.name}"
    return (f"{PROGRAM}: '{path}' {wrong}\n\nUsage:  {path} {command.usage}".rstrip()
            + f"\n\n{see} '{path} --help' for more information")


def _usage_error(message: str, hint: str, command: Command | None = None) -> int:
    text = message + "\n\n"
    if command is not None:
        text += f"Usage:  {PROGRAM} {command.name} {command.usage}\n\n"
    print(text + hint + " for more information", file=sys.stderr)
    return 125


if __name__ == "__main__":
    sys.exit(main())
