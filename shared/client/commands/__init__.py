"""One module per verb. Each provides COMMAND (its flags) and run(client, options, args)."""

from __future__ import annotations

import sys

from shared.client.api import APIError

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from collections.abc import Callable


def for_each(names: list[str], action: Callable[[str], object]) -> int:
    """Apply `action` to every name as docker's stop/kill/rm/rmi do: print each name
    that succeeds, report each failure, and carry on; exit 1 if any failed."""
    status = 0
    for name in names:
        try:
            action(name)
        except APIError as error:
            print(f"Error response from daemon: {error.message}", file=sys.stderr)
            status = 1
        else:
            print(name)
    return status
