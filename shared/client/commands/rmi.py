"""`rmi`: remove images; print what was untagged and deleted."""

from __future__ import annotations

import sys

from shared.client.api import APIError, Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "rmi",
    "[OPTIONS] IMAGE [IMAGE...]",
    "Remove one or more images",
    [
        Flag("-f, --force", "Force removal of the image"),
        Flag("--no-prune", "Do not delete untagged parents"),
    ],
    min_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    status = 0
    query = {"force": options["force"], "noprune": options["no_prune"]}
    for name in args:
        try:
            removed = client.request("DELETE", f"/images/{name}", query=query) or []
        except APIError as error:
            print(f"Error response from daemon: {error.message}", file=sys.stderr)
            status = 1
            continue
        for item in removed:  # [{"Untagged": "busybox:latest"}, {"Deleted": "sha256:..."}]
            for what, ref in item.items():
                print(f"{what}: {ref}")
    return status
