"""Errors that name the operation and the path, as runc's do.

"Operation not permitted" alone tells nobody which of forty mounts failed; every
error a container's setup can raise says what was being done and where:
`mount proc on /x/rootfs/proc: EPERM (Operation not permitted)`.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager


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


@contextmanager
def step(operation: str) -> Iterator[None]:
    """Name the operation for the standard library's OSErrors raised inside:
    `chdir to cwd /nosuch: ENOENT (No such file or directory)`."""
    try:
        yield
    except SyscallError:
        raise
    except OSError as e:
        raise ContainerError(f"{operation}: {_name(e.errno) if e.errno else e}") from None
