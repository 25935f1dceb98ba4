"""`network`: create, list, inspect and remove networks; (dis)connect containers.

A group of sub-verbs, as in docker (`docker network ls`): SUBCOMMANDS maps each word
to its Command and the function that runs it; cli.py dispatches on the word.

A network here is what the daemon's bridge driver makes: a Linux bridge with a subnet
of its own. Containers on one *user-defined* network find each other by name (and by
their --alias names), through the DNS server the daemon answers on its gateway; the
default `bridge` network has no such names, as in Docker.
"""

from __future__ import annotations

import ipaddress
import json
import sys

from shared.client.api import APIError, Client
from shared.client.tables import natural_key, short_id, table
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class NetworkError(Exception):
    """Refused by the CLI before asking the daemon (docker prints these bare)."""


# -- create ----------------------------------------------------------------------


def _many(text: str) -> list[str]:
    """pflag's `strings` type: `--subnet a,b` is two values."""
    return [part for part in text.split(",") if part]


CREATE = Command(
    "network create",
    "[OPTIONS] NETWORK",
    "Create a network",
    [
        Flag("--attachable", "Enable manual container attachment"),
        Flag("-d, --driver", 'Driver to manage the Network (default "bridge")',
             metavar="string", default="bridge"),
        Flag("--gateway", "IPv4 or IPv6 Gateway for the master subnet", metavar="strings",
             many=True, convert=_many),
        Flag("--internal", "Restrict external access to the network"),
        Flag("--label", "Set metadata on a network", metavar="list", many=True),
        Flag("-o, --opt", "Set driver specific options", metavar="map", many=True),
        Flag("--subnet", "Subnet in CIDR format that represents a network segment",
             metavar="strings", many=True, convert=_many),
    ],
    min_args=1,
    max_args=1,
)


def create(client: Client, options: dict[str, Any], args: list[str]) -> int:
    subnets = [s for group in options["subnet"] for s in group]
    gateways = [g for group in options["gateway"] for g in group]
    try:
        ipam_config = ipam(subnets, gateways)
    except NetworkError as error:
        print(error, file=sys.stderr)
        return 1
    body = {
        "Name": args[0],
        "Driver": options["driver"],
        "Options": key_values(options["opt"]),
        "IPAM": {"Driver": "default", "Config": ipam_config, "Options": {}},
        "Internal": options["internal"],
        "Attachable": options["attachable"],
        "Labels": key_values(options["label"]),
        # Daemons before API 1.44 allow two networks of one name unless asked not to
        # (later ones always refuse); docker's client asks too.
        "CheckDuplicate": True,
    }
    created = client.request("POST", "/networks/create", body=body)
    if created.get("Warning"):
        print(f"WARNING: {created['Warning']}", file=sys.stderr)
    print(created["Id"])
    return 0


def ipam(subnets: list[str], gateways: list[str]) -> list[dict[str, str]]:
    """--subnet/--gateway -> IPAM.Config, checked as the docker CLI checks them: every
    gateway lies in a subnet of its own, and no two subnets overlap."""
    if len(subnets) < len(gateways):
        raise NetworkError("every ip-range or gateway must have a corresponding subnet")
    config: dict[str, dict[str, str]] = {}
    for subnet in subnets:
        for other in config:
            if _network(subnet).overlaps(_network(other)):
                raise NetworkError("multiple overlapping subnet configuration is not supported")
        config[subnet] = {"Subnet": subnet}
    for gateway in gateways:
        matching = [s for s in subnets if _address(gateway) in _network(s)]
        if not matching:
            raise NetworkError(f"no matching subnet for gateway {gateway}")
        for subnet in matching:
            if "Gateway" in config[subnet]:
                raise NetworkError(
                    f"cannot configure multiple gateways ({gateway}, "
                    f"{config[subnet]['Gateway']}) for the same subnet ({subnet})")
            config[subnet]["Gateway"] = gateway
    return list(config.values())


def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(cidr, strict=False)  # Go's ParseCIDR keeps host bits
    except ValueError:
        raise NetworkError(f"invalid subnet: invalid CIDR address: {cidr}") from None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_interface(text).ip
    except ValueError:
        return None  # contained in no subnet: "no matching subnet for gateway"


def key_values(entries: list[str]) -> dict[str, str]:
    """`--label a=1 --label b` -> {"a": "1", "b": ""}."""
    return {key: value for key, _, value in (entry.partition("=") for entry in entries)}


# -- ls --------------------------------------------------------------------------


def _filter(text: str) -> tuple[str, str]:
    name, has_value, value = text.partition("=")
    if not has_value:
        raise ValueError("bad format of filter (expected name=value)")
    return name.strip().lower(), value


def _filters_query(pairs: list[tuple[str, str]]) -> dict[str, str] | None:
    """[("driver", "bridge")] -> {"filters": '{"driver": {"bridge": true}}'}, the API's form."""
    filters: dict[str, dict[str, bool]] = {}
    for name, value in pairs:
        filters.setdefault(name, {})[value] = True
    return {"filters": json.dumps(filters)} if filters else None


LS = Command(
    "network ls",
    "[OPTIONS]",
    "List networks",
    [
        Flag("-f, --filter", 'Provide filter values (e.g. "driver=bridge")', metavar="filter",
             many=True, convert=_filter),
        Flag("--no-trunc", "Do not truncate the output"),
        Flag("-q, --quiet", "Only display network IDs"),
    ],
    max_args=0,
)


def ls(client: Client, options: dict[str, Any], args: list[str]) -> int:
    networks = client.request("GET", "/networks", query=_filters_query(options["filter"]))
    networks.sort(key=lambda n: natural_key(n["Name"]))  # the daemon's order is its own
    ids = [n["Id"] if options["no_trunc"] else short_id(n["Id"]) for n in networks]
    if options["quiet"]:
        for network_id in ids:
            print(network_id)
        return 0
    rows = [[network_id, n["Name"], n["Driver"], n["Scope"]]
            for network_id, n in zip(ids, networks, strict=True)]
    sys.stdout.write(table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], rows))
    return 0


# -- inspect ---------------------------------------------------------------------

INSPECT = Command(
    "network inspect",
    "[OPTIONS] NETWORK [NETWORK...]",
    "Display detailed information on one or more networks",
    [Flag("-f, --format", "Format output using a Go template subset: "
          "{{.Path.To.Field}} and {{json .Field}}", metavar="string")],
    min_args=1,
)


def inspect(client: Client, options: dict[str, Any], args: list[str]) -> int:
    from shared.client.commands.inspect import inspect_objects

    return inspect_objects(client, [f"/networks/{name}" for name in args], options["format"])


# -- rm --------------------------------------------------------------------------

RM = Command(
    "network rm",
    "NETWORK [NETWORK...]",
    "Remove one or more networks",
    [Flag("-f, --force", "Do not error if the network does not exist")],
    min_args=1,
)


def rm(client: Client, options: dict[str, Any], args: list[str]) -> int:
    status = 0
    for name in args:
        try:
            client.request("DELETE", f"/networks/{name}")
        except APIError as error:
            if options["force"] and error.status == 404:
                continue
            print(f"Error response from daemon: {error.message}", file=sys.stderr)
            status = 1
        else:
            print(name)
    if status:
        print("exit status 1", file=sys.stderr)  # docker 28's last line, word for word
    return status


# -- connect, disconnect ---------------------------------------------------------

CONNECT = Command(
    "network connect",
    "[OPTIONS] NETWORK CONTAINER",
    "Connect a container to a network",
    [
        Flag("--alias", "Add network-scoped alias for the container", metavar="strings",
             many=True, convert=_many),
        Flag("--ip", 'IPv4 address (e.g., "172.30.100.104")', metavar="string"),
    ],
    min_args=2,
    max_args=2,
)


def connect(client: Client, options: dict[str, Any], args: list[str]) -> int:
    network, container = args
    endpoint: dict[str, Any] = {"Aliases": [a for group in options["alias"] for a in group]}
    if options["ip"]:
        endpoint["IPAMConfig"] = {"IPv4Address": options["ip"]}
    client.request("POST", f"/networks/{network}/connect",
                   body={"Container": container, "EndpointConfig": endpoint})
    return 0


DISCONNECT = Command(
    "network disconnect",
    "[OPTIONS] NETWORK CONTAINER",
    "Disconnect a container from a network",
    [Flag("-f, --force", "Force the container to disconnect from a network")],
    min_args=2,
    max_args=2,
)


def disconnect(client: Client, options: dict[str, Any], args: list[str]) -> int:
    network, container = args
    client.request("POST", f"/networks/{network}/disconnect",
                   body={"Container": container, "Force": options["force"]})
    return 0


# -- prune -----------------------------------------------------------------------

PRUNE = Command(
    "network prune",
    "[OPTIONS]",
    "Remove all unused networks",
    [
        Flag("--filter", 'Provide filter values (e.g. "until=<timestamp>")', metavar="filter",
             many=True, convert=_filter),
        Flag("-f, --force", "Do not prompt for confirmation"),
    ],
    max_args=0,
)


def prune(client: Client, options: dict[str, Any], args: list[str]) -> int:
    if not options["force"]:
        sys.stdout.write("WARNING! This will remove all custom networks not used by at least "
                         "one container.\nAre you sure you want to continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0  # docker says nothing more, and exits 0
    result = client.request("POST", "/networks/prune", query=_filters_query(options["filter"]))
    deleted = result.get("NetworksDeleted") or []
    if deleted:
        print("Deleted Networks:\n" + "\n".join(deleted) + "\n")
    return 0


# -- the group -------------------------------------------------------------------

SUBCOMMANDS: dict[str, tuple[Command, Callable[[Client, dict[str, Any], list[str]], int]]] = {
    "connect": (CONNECT, connect),
    "create": (CREATE, create),
    "disconnect": (DISCONNECT, disconnect),
    "inspect": (INSPECT, inspect),
    "ls": (LS, ls),
    "list": (LS, ls),  # docker's alias
    "prune": (PRUNE, prune),
    "rm": (RM, rm),
    "remove": (RM, rm),  # docker's alias
}


def help_text(program: str) -> str:
    shown = [(word, command) for word, (command, _) in SUBCOMMANDS.items()
             if command.name.endswith(" " + word)]  # aliases are not listed
    lines = [f"Usage:  {program} network COMMAND", "", "Manage networks", "", "Commands:"]
    lines += [f"  {word:<11} {command.summary}" for word, command in shown]
    lines += ["", f"Run '{program} network COMMAND --help' for more information on a command."]
    return "\n".join(lines) + "\n"
