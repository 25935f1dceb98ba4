"""`create`: make a container without starting it; print its Id."""

from __future__ import annotations

from shared.client import containerconfig
from shared.client.api import APIError, Client
from shared.client.portspecs import PortSpecError
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "create",
    "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    "Create a new container",
    containerconfig.FLAGS,
    min_args=1,
    interspersed=False,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    image, command = args[0], args[1:]
    # As docker create: the streams are set up for a later `start -a`.
    try:
        body = containerconfig.build(options, image, command, attach=True)
    except (PortSpecError, containerconfig.BadOption) as error:
        return containerconfig.report_bad_config("whalebones", "create", error)
    try:
        print(containerconfig.create_or_pull(client, options["name"], body, image))
    except containerconfig.PullFailed:
        return 125
    except APIError as error:
        return containerconfig.report_create_error("whalebones", "create", image, error)
    return 0
