"""`port`: where on the host a container's ports are published.

    $ whalebones port web            $ whalebones port web 80
    80/tcp -> 0.0.0.0:32768          0.0.0.0:32768

The answer is in the container's inspect (NetworkSettings.Ports): the daemon fills it
in when the container starts, with the host ports it actually got (`-p 80` and `-P`
ask for any free one). A port exposed but not published maps to null there.
"""

from __future__ import annotations

import sys

from shared.client.api import Client
from shared.client.tables import natural_key
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "port",
    "CONTAINER [PRIVATE_PORT[/PROTO]]",
    "List port mappings or a specific mapping for the container",
    [],
    min_args=1,
    max_args=2,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    container = args[0]
    ports = client.request("GET", f"/containers/{container}/json")["NetworkSettings"]["Ports"]
    ports = ports or {}
    if len(args) == 2:
        wanted = args[1]
        port, _, proto = wanted.partition("/")
        if not (port.isascii() and port.isdigit() and int(port) <= 65535):
            print(f'Error: invalid port ({port}): strconv.ParseUint: parsing "{port}": '
                  f"{'value out of range' if port.isdigit() else 'invalid syntax'}",
                  file=sys.stderr)
            return 1
        bindings = ports.get(f"{port}/{proto or 'tcp'}")
        if not bindings:
            print(f"Error: No public port '{wanted}' published for {container}",
                  file=sys.stderr)
            return 1
        lines = [host_port(b) for b in bindings]
    else:
        lines = [f"{key} -> {host_port(b)}" for key, bound in ports.items() for b in bound or []]
    for line in sorted(lines, key=natural_key):
        print(line)
    return 0


def host_port(binding: dict) -> str:
    """`0.0.0.0:8080`, or `[::]:8080` for IPv6 (Go's net.JoinHostPort)."""
    ip = binding.get("HostIp") or ""
    return f"[{ip}]:{binding['HostPort']}" if ":" in ip else f"{ip}:{binding['HostPort']}"
