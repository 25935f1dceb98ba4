"""`push`: upload an image's tags to its registry."""

from __future__ import annotations

import sys

from shared.client.api import Client
from shared.client.commands.pull import registry_auth, split_name
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "push",
    "[OPTIONS] NAME[:TAG]",
    "Upload an image to a registry",
    [
        Flag("-a, --all-tags", "Push all tags of an image to the repository"),
        Flag("-q, --quiet", "Suppress verbose output"),
    ],
    min_args=1,
    max_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    from shared.client.jsonstream import Display, StreamError

    registry, repository, tag = split_name(args[0])
    if tag.startswith("sha256:"):
        print(f"invalid reference format: cannot push a digest reference ({args[0]})",
              file=sys.stderr)
        return 1
    if not tag and not options["all_tags"]:
        print("Using default tag: latest")
        tag = "latest"
    response = client.stream("POST", f"/images/{repository}/push", query={"tag": tag or None},
                             headers=registry_auth(registry))
    display = Display(sys.stdout, terminal=sys.stdout.isatty())
    try:
        if options["quiet"]:
            for _ in response.chunks():
                pass
        else:
            display.follow(response)
    except StreamError as error:
        print(str(error), file=sys.stderr)
        return 1
    if options["quiet"]:
        print(f"{repository}:{tag}" if tag else repository)
    return 0
