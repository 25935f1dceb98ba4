"""`volume`: create, list, inspect, remove and prune the daemon's volumes.

A volume is a directory the daemon owns (under <root>/volumes, the local driver) that
containers mount; it outlives them, until removed. The daemon refuses to remove one a
container still names (409), and a prune removes only volumes no container names (and,
since Docker 23, only anonymous ones unless `--all`).
"""

from __future__ import annotations

import sys

from shared.client.api import APIError, Client
from shared.client.commands.network import _filter, _filters_query, key_values
from shared.client.tables import natural_key, table
from shared.flags import Command, Flag
from shared.humanize import human_size

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

CREATE = Command(
    "volume create",
    "[OPTIONS] [VOLUME]",
    "Create a volume",
    [
        Flag("-d, --driver", 'Specify volume driver name (default "local")', metavar="string",
             default="local"),
        Flag("--label", "Set metadata for a volume", metavar="list", many=True),
        Flag("-o, --opt", "Set driver specific options", metavar="map", many=True),
    ],
    max_args=1,
)


def create(client: Client, options: dict[str, Any], args: list[str]) -> int:
    body = {"Name": args[0] if args else "", "Driver": options["driver"],
            "DriverOpts": key_values(options["opt"]), "Labels": key_values(options["label"])}
    print(client.request("POST", "/volumes/create", body=body)["Name"])
    return 0


LS = Command(
    "volume ls",
    "[OPTIONS]",
    "List volumes",
    [
        Flag("-f, --filter", "Provide filter values (e.g. \"dangling=true\")", metavar="filter",
             many=True, convert=_filter),
        Flag("-q, --quiet", "Only display volume names"),
    ],
    max_args=0,
)


def ls(client: Client, options: dict[str, Any], args: list[str]) -> int:
    volumes = client.request("GET", "/volumes",
                             query=_filters_query(options["filter"]))["Volumes"] or []
    volumes.sort(key=lambda v: natural_key(v["Name"]))
    if options["quiet"]:
        for v in volumes:
            print(v["Name"])
        return 0
    sys.stdout.write(table(["DRIVER", "VOLUME NAME"], [[v["Driver"], v["Name"]]
                                                       for v in volumes]))
    return 0


INSPECT = Command(
    "volume inspect",
    "[OPTIONS] VOLUME [VOLUME...]",
    "Display detailed information on one or more volumes",
    [Flag("-f, --format", "Format output using a Go template subset: "
          "{{.Path.To.Field}} and {{json .Field}}", metavar="string")],
    min_args=1,
)


def inspect(client: Client, options: dict[str, Any], args: list[str]) -> int:
    from shared.client.commands.inspect import inspect_objects

    return inspect_objects(client, [f"/volumes/{name}" for name in args], options["format"])


RM = Command(
    "volume rm",
    "[OPTIONS] VOLUME [VOLUME...]",
    "Remove one or more volumes",
    [Flag("-f, --force", "Force the removal of one or more volumes")],
    min_args=1,
)


def rm(client: Client, options: dict[str, Any], args: list[str]) -> int:
    status = 0
    for name in args:
        try:
            client.request("DELETE", f"/volumes/{name}", query={"force": options["force"]})
        except APIError as error:
            print(f"Error response from daemon: {error.message}", file=sys.stderr)
            status = 1
        else:
            print(name)
    return status


PRUNE = Command(
    "volume prune",
    "[OPTIONS]",
    "Remove unused local volumes",
    [
        Flag("-a, --all", "Remove all unused volumes, not just anonymous ones"),
        Flag("--filter", 'Provide filter values (e.g. "label=<label>")', metavar="filter",
             many=True, convert=_filter),
        Flag("-f, --force", "Do not prompt for confirmation"),
    ],
    max_args=0,
)


def prune(client: Client, options: dict[str, Any], args: list[str]) -> int:
    if not options["force"]:
        what = "volumes" if options["all"] else "anonymous local volumes"
        sys.stdout.write(f"WARNING! This will remove all {what} not used by at least one "
                         "container.\nAre you sure you want to continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    pairs = list(options["filter"]) + ([("all", "true")] if options["all"] else [])
    result = client.request("POST", "/volumes/prune", query=_filters_query(pairs))
    deleted = result.get("VolumesDeleted") or []
    if deleted:
        print("Deleted Volumes:\n" + "\n".join(deleted) + "\n")
    print(f"Total reclaimed space: {human_size(result.get('SpaceReclaimed') or 0)}")
    return 0


SUBCOMMANDS: dict[str, tuple[Command, Callable[[Client, dict[str, Any], list[str]], int]]] = {
    "create": (CREATE, create),
    "inspect": (INSPECT, inspect),
    "ls": (LS, ls),
    "list": (LS, ls),  # docker's alias
    "prune": (PRUNE, prune),
    "rm": (RM, rm),
    "remove": (RM, rm),  # docker's alias
}


def help_text(program: str) -> str:
    shown = [(word, command) for word, (command, _) in SUBCOMMANDS.items()
             if command.name.endswith(" " + word)]
    lines = [f"Usage:  {program} volume COMMAND", "", "Manage volumes", "", "Commands:"]
    lines += [f"  {word:<11} {command.summary}" for word, command in shown]
    lines += ["", f"Run '{program} volume COMMAND --help' for more information on a command."]
    return "\n".join(lines) + "\n"
