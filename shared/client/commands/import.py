"""`import`: make an image of a filesystem tar (a file, or - for stdin).

(A module named `import` cannot be written `import shared.client.commands.import`,
`import` being a keyword; the CLI loads verbs by name with __import__, which can.)
"""

from __future__ import annotations

import sys

from shared.client.api import Client
from shared.client.commands.pull import split_name
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "import",
    "[OPTIONS] file|- [REPOSITORY[:TAG]]",
    "Import the contents from a tarball to create a filesystem image",
    [
        Flag("-c, --change", "Apply Dockerfile instruction to the created image",
             metavar="list", many=True),
        Flag("-m, --message", "Set commit message for imported image", metavar="string"),
        Flag("--platform", "Set platform if server is multi-platform capable", metavar="string"),
    ],
    min_args=1,
    max_args=2,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    from shared.client.jsonstream import Display, StreamError, send_file

    query: dict[str, Any] = {"fromSrc": "-", "message": options["message"] or None,
                             "changes": options["change"]}
    if len(args) == 2:
        _, repository, tag = split_name(args[1])
        query.update(repo=repository, tag=tag or None)
    if args[0] == "-":
        source = sys.stdin.buffer
    else:
        try:
            source = open(args[0], "rb")  # noqa: SIM115 - closed below
        except OSError as error:
            print(f"open {args[0]}: {(error.strerror or str(error)).lower()}", file=sys.stderr)
            return 1
    with source:
        response = send_file(client, "POST", "/images/create", source, query=query)
    try:
        Display(sys.stdout, terminal=False).follow(response)
    except StreamError as error:
        print(str(error), file=sys.stderr)
        return 1
    return 0
