"""`ps`: list containers."""

from __future__ import annotations

import json
import sys
import time

from shared.client.api import Client
from shared.client.tables import ellipsis, short_id, table
from shared.flags import Command, Flag
from shared.humanize import human_duration

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

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
    """`90-91/tcp, 0.0.0.0:8080->80/tcp`, as docker's DisplayablePorts: ports only
    exposed (or published on the same port number) are grouped into runs like
    `90-91/tcp`; a port published elsewhere is shown as HOST_IP:HOST_PORT->PORT/PROTO,
    after the groups."""
    groups: dict[str, list[int]] = {}  # "tcp" or "IP/tcp" -> [first, last] of the open run
    shown, mappings = [], []
    for p in sorted(api_ports, key=lambda p: (p.get("PrivatePort", 0), p.get("IP", ""),
                                              p.get("PublicPort", 0), p.get("Type", ""))):
        port, proto, ip = p.get("PrivatePort", 0), p.get("Type", "tcp"), p.get("IP", "")
        key = proto
        if ip:
            if p.get("PublicPort") != port:
                host = f"[{ip}]" if ":" in ip else ip
                mappings.append(f"{host}:{p.get('PublicPort')}->{port}/{proto}")
                continue
            key = f"{ip}/{proto}"
        run = groups.get(key)
        if run is not None and port == run[1] + 1:
            run[1] = port
            continue
        if run is not None:
            shown.append(_group(key, *run))  # the run ended: out it goes, a new one starts
        groups[key] = [port, port]  # (a key keeps its first place, as in docker's)
    shown += [_group(key, first, last) for key, (first, last) in groups.items()]
    return ", ".join(shown + mappings)


def _group(key: str, first: int, last: int) -> str:
    ip, _, proto = key.rpartition("/")
    ports = str(first) if first == last else f"{first}-{last}"
    return f"{ip}:{ports}->{ports}/{proto}" if ip else f"{ports}/{proto}"
