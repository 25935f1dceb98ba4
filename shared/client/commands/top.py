"""`top`: a container's processes, as the host's ps shows them (ps options pass on)."""

from __future__ import annotations

import sys

from shared.client.api import Client
from shared.client.tables import table
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command("top", "CONTAINER [ps OPTIONS]", "Display the running processes of a container",
                  [], min_args=1, interspersed=False)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    name, *ps_args = args
    query = {"ps_args": " ".join(ps_args)} if ps_args else None
    listing = client.request("GET", f"/containers/{name}/top", query=query)
    # docker's tabwriter for top: columns at least 20 wide
    sys.stdout.write(table(listing["Titles"], listing["Processes"], min_width=20))
    return 0
