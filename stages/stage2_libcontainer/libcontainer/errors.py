"""Errors that name the operation and the path, as runc's do."""

from __future__ import annotations

import errno
import os


class ContainerError(Exception):
    """Something about a container could not be done; the message says what and where."""


def os_error(operation: str, err: int) -> OSError:
    """`mount proc on /x/proc: EPERM (Operation not permitted)`."""
    name = errno.errorcode.get(err, str(err))
    return OSError(err, f"{operation}: {name} ({os.strerror(err)})")
