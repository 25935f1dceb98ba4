"""`logout`: forget the login config.json holds for a registry."""

from __future__ import annotations

from shared.client.api import Client
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command("logout", "[SERVER]", "Log out from a registry", [], max_args=1)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    from shared.images.registry import dockerconfig

    server = args[0] if args else dockerconfig.DOCKER_HUB_KEY
    key = dockerconfig.config_key(server)
    if not dockerconfig.remove(server):
        print(f"Not logged in to {key}")
        return 0
    print(f"Removing login credentials for {key}")
    return 0
