"""`history`: how an image was made, newest step first."""

from __future__ import annotations

import sys
import time

from shared.client.api import Client
from shared.client.tables import ellipsis, short_id, table
from shared.flags import Command, Flag
from shared.humanize import human_duration, human_size

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "history",
    "[OPTIONS] IMAGE",
    "Show the history of an image",
    [
        Flag("-H, --human", "Print sizes and dates in human readable format", default=True),
        Flag("--no-trunc", "Don't truncate output"),
        Flag("-q, --quiet", "Only show image IDs"),
    ],
    min_args=1,
    max_args=1,
)

HEADER = ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    rows_in = client.request("GET", f"/images/{args[0]}/history")
    trunc, now = not options["no_trunc"], time.time()
    rows = []
    for row in rows_in:
        image = row["Id"]
        if image != "<missing>" and trunc:
            image = short_id(image)
        if options["quiet"]:
            print(image)
            continue
        created_by = row.get("CreatedBy", "").replace("\t", " ")
        if trunc:
            created_by = ellipsis(created_by, 45)
        if options["human"]:
            created = human_duration(now - row["Created"]) + " ago"
            size = human_size(row.get("Size", 0))
        else:
            created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["Created"]))
            size = str(row.get("Size", 0))
        rows.append([image, created, created_by, size, row.get("Comment", "")])
    if not options["quiet"]:
        sys.stdout.write(table(HEADER, rows))
    return 0
