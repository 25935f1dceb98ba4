"""`inspect`: the daemon's full JSON for containers, images or networks."""

from __future__ import annotations

import json
import sys

from shared.client.api import APIError, Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "inspect",
    "[OPTIONS] NAME|ID [NAME|ID...]",
    "Return low-level information on Docker objects",
    [
        Flag("-f, --format", "Format output using a Go template subset: "
             "{{.Path.To.Field}} and {{json .Field}}", metavar="string"),
        Flag("--type", "Only inspect objects of the given type (container, image, network)",
             metavar="string"),
    ],
    min_args=1,
)

# Tried in docker's order: a name that is both a container and a network is the container.
KINDS = {"container": "/containers/{}/json", "image": "/images/{}/json",
         "network": "/networks/{}"}


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    kinds = [options["type"]] if options["type"] else list(KINDS)
    found, status = [], 0
    for name in args:
        obj = _lookup(client, name, kinds)
        if obj is None:
            print(f"Error: No such object: {name}", file=sys.stderr)
            status = 1
        elif options["format"] is not None:
            print(render(options["format"], obj))
        else:
            found.append(obj)
    if options["format"] is None:
        print(json.dumps(found, indent=4, ensure_ascii=False))
    return status


def inspect_objects(client: Client, paths: list[str], template: str | None) -> int:
    """`docker network inspect`, `volume inspect`: each object by its API path, as JSON
    or through the -f template; as docker, what was found first, then every failure."""
    found, errors = [], []
    for path in paths:
        try:
            found.append(client.request("GET", path))
        except APIError as error:
            errors.append(f"Error response from daemon: {error.message}")
    if template is not None:
        for obj in found:
            print(render(template, obj))
    else:
        print(json.dumps(found, indent=4, ensure_ascii=False))
    for message in errors:
        print(message, file=sys.stderr)
    return 1 if errors else 0


def _lookup(client: Client, name: str, kinds: list[str]) -> Any:
    for kind in kinds:
        try:
            return client.request("GET", KINDS[kind].format(name))
        except APIError as error:
            if error.status != 404:
                raise
    return None


def render(template: str, obj: Any) -> str:
    """A small subset of Go templates: `{{.A.B}}` and `{{json .A}}`."""
    out, rest = [], template
    while "{{" in rest:
        before, _, rest = rest.partition("{{")
        action, _, rest = rest.partition("}}")
        out.append(before)
        words = action.split()
        as_json = len(words) == 2 and words[0] == "json"
        value = obj
        for key in words[-1].strip(".").split("."):
            if key:
                value = value.get(key) if isinstance(value, dict) else None
        if as_json:
            out.append(json.dumps(value, separators=(",", ":")))
        elif isinstance(value, bool):
            out.append("true" if value else "false")
        elif value is None:
            out.append("<no value>")
        elif isinstance(value, (dict, list)):
            out.append(_go_print(value))
        else:
            out.append(str(value))
    return "".join(out) + rest


def _go_print(value: Any) -> str:
    """How Go's fmt prints maps and slices: map[k:v] and [a b]."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_print(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_print(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "<nil>" if value is None else str(value)
