"""`commit`: make an image of a container's changes (POST /commit)."""

from __future__ import annotations

from shared.client.api import Client, encode_query
from shared.client.commands.pull import split_name
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "commit",
    "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
    "Create a new image from a container's changes",
    [
        Flag("-a, --author", 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")',
             metavar="string"),
        Flag("-c, --change", "Apply Dockerfile instruction to the created image",
             metavar="list", many=True),
        Flag("-m, --message", "Commit message", metavar="string"),
        Flag("-p, --pause", "Pause container during commit", default=True),
    ],
    min_args=1,
    max_args=2,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    query: dict[str, Any] = {"container": args[0], "author": options["author"] or None,
                             "comment": options["message"] or None,
                             # an explicit 0: the daemon's default is to pause
                             "pause": 1 if options["pause"] else 0}
    if len(args) == 2:
        _, repository, tag = split_name(args[1])
        query.update(repo=repository, tag=tag or None)
    # a repeated parameter: changes=CMD%20..&changes=ENV%20..
    path = "/commit" + encode_query(query) + "".join(
        "&" + encode_query({"changes": c})[1:] for c in options["change"] or [])
    reply = client.request("POST", path, body={})
    print(reply["Id"])
    return 0
