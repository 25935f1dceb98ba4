"""`images`: list images."""

from __future__ import annotations

import json
import sys
import time

from shared.client.api import Client
from shared.client.tables import short_id, table
from shared.flags import Command, Flag
from shared.humanize import human_duration, human_size

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "images",
    "[OPTIONS] [REPOSITORY[:TAG]]",
    "List images",
    [
        Flag("-a, --all", "Show all images (default hides intermediate images)"),
        Flag("-q, --quiet", "Only show image IDs"),
        Flag("--no-trunc", "Don't truncate output"),
    ],
    max_args=1,
)

HEADER = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    query: dict[str, Any] = {"all": options["all"]}
    if args:
        query["filters"] = json.dumps({"reference": {args[0]: True}})
    images = client.request("GET", "/images/json", query=query)
    trunc = not options["no_trunc"]
    now = time.time()
    rows, seen = [], []
    for image in images:
        image_id = short_id(image["Id"]) if trunc else image["Id"]
        if options["quiet"]:
            if image_id not in seen:
                seen.append(image_id)
                print(image_id)
            continue
        created = human_duration(now - image.get("Created", now)) + " ago"
        for ref in image.get("RepoTags") or ["<none>:<none>"]:
            repository, _, tag = ref.rpartition(":")
            rows.append([repository, tag, image_id, created, human_size(image.get("Size", 0))])
    if not options["quiet"]:
        sys.stdout.write(table(HEADER, rows))
    return 0
