"""`version`: the client's and the daemon's versions."""

from __future__ import annotations

import os
import sys

from shared.client.api import API_VERSION, Client
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command("version", "[OPTIONS]", "Show the Docker version information", [],
                  max_args=0)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    print("Client: Whalebones")
    print(f" API version:       {API_VERSION}")
    print(f" Python version:    {sys.version.split()[0]}")
    print(f" OS/Arch:           {sys.platform}/{os.uname().machine}")
    print()
    server = client.request("GET", "/version")
    print(f"Server: {(server.get('Platform') or {}).get('Name', '')}".rstrip())
    for component in server.get("Components") or [{"Name": "Engine", "Version": ""}]:
        details = component.get("Details") or {}
        print(f" {component['Name']}:")
        print(f"  Version:          {component.get('Version', '')}")
        if component["Name"] == "Engine":
            print(f"  API version:      {server.get('ApiVersion', '')} "
                  f"(minimum version {server.get('MinAPIVersion', '')})")
            print(f"  Go version:       {server.get('GoVersion', '')}")
            print(f"  Git commit:       {server.get('GitCommit', '')}")
            print(f"  Built:            {server.get('BuildTime', '')}")
            print(f"  OS/Arch:          {server.get('Os', '')}/{server.get('Arch', '')}")
        elif details.get("GitCommit"):
            print(f"  GitCommit:        {details['GitCommit']}")
    return 0
