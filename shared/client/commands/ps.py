"""`ps`: list containers."""

from __future__ import annotations

import json
import sys
import time

from shared.client.flags import Command, Flag
from shared.client.tables import ellipsis, short_id, table
from shared.humanize import human_duration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from shared.client.api import Client

COMMAND = Command(
    "ps",
    "[OPTIONS]",
    "List containers",
    [
        Flag("-a, --all", "Show all containers (default shows just running)"),
        Flag("-q, --quiet", "Only display container IDs"),
        Flag("--no-trunc", "Don't truncate output"),
    ],
    max_args=0,
)

HEADER = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    containers = client.request("GET", "/containers/json", query={"all": options["all"]})
    trunc = not options["no_trunc"]
    if options["quiet"]:
        for c in containers:
            print(short_id(c["Id"]) if trunc else c["Id"])
        return 0
    now = time.time()
    rows = []
    for c in containers:
        command = c.get("Command", "")
        image = c.get("Image", "")
        if image.startswith("sha256:") and trunc:
            image = short_id(image)
        rows.append([
            short_id(c["Id"]) if trunc else c["Id"],
            image,
            json.dumps(ellipsis(command, 20) if trunc else command, ensure_ascii=False),
            human_duration(now - c.get("Created", now)) + " ago",
            c.get("Status", ""),
            ports(c.get("Ports") or []),
            names(c.get("Names") or []),
        ])
    sys.stdout.write(table(HEADER, rows))
    return 0


def names(api_names: list[str]) -> str:
    """`["/web", "/app/db"]` -> `web`: names with a second slash are legacy links."""
    own = [name.lstrip("/") for name in api_names if "/" not in name.lstrip("/")]
    return ",".join(own)


def ports(api_ports: list[dict]) -> str:
    """`0.0.0.0:8080->80/tcp, 443/tcp`."""
    shown = []
    for p in api_ports:
        private = f"{p.get('PrivatePort')}/{p.get('Type', 'tcp')}"
        if p.get("PublicPort"):
            shown.append(f"{p.get('IP', '0.0.0.0')}:{p['PublicPort']}->{private}")
        else:
            shown.append(private)
    return ", ".join(shown)
