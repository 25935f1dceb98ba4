"""Errors that name the operation and the path, as runc's do.

"Operation not permitted" alone tells nobody which of forty mounts failed; every
error a container's setup can raise says what was being done and where:
`mount proc on /x/rootfs/proc: EPERM (Operation not permitted)`.
"""

from __future__ import annotations

import errno
import os


class ContainerError(Exception):
    """Something about a container could not be done; the message says what and where."""


class SyscallError(OSError):
    """An OSError whose text already names the operation (see `os_error`)."""

    def __str__(self) -> str:
        return str(self.strerror)


def _name(err: int | None) -> str:
    if err is None:
        return "error"
    return f"{errno.errorcode.get(err, str(err))} ({os.strerror(err)})"


def os_error(operation: str, err: int | None) -> SyscallError:
    """`mount proc on /x/proc: EPERM (Operation not permitted)`."""
    return SyscallError(err, f"{operation}: {_name(err)}")


def describe(error: BaseException) -> str:
    """One line for any error raised while setting a container up."""
    if isinstance(error, ContainerError | SyscallError):
        return str(error)
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return where + (_name(error.errno) if error.errno else str(error.strerror or error))
    return f"{type(error).__name__}: {error}"


class step:  # noqa: N801 - used as `with step(...)`, like a function
    """Name the operation for the standard library's OSErrors raised inside:
    `chdir to cwd /nosuch: ENOENT (No such file or directory)`.

    A class rather than @contextmanager: `runc state`, `kill`, `start` and `delete`
    load this module but never set anything up, and contextlib is ~0.4 ms of each
    (python3 -X importtime, median of 9)."""

    def __init__(self, operation: str) -> None:
        self.operation = operation

    def __enter__(self) -> None:
        pass

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 _traceback: object) -> None:
        if isinstance(error, OSError) and not isinstance(error, SyscallError):
            reason = _name(error.errno) if error.errno else error
            raise ContainerError(f"{self.operation}: {reason}") from None
