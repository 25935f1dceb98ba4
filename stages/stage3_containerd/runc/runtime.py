"""What every verb shares: the state root, the log, and a few files it writes.

    <root>/                  --root, default /run/whalebones/runc, mode 0700
    <root>/<id>/             libcontainer's state directory for one container
    <root>/<id>/bundle       the bundle path, for `state` and `list` (ours, not libcontainer's)

libcontainer itself is imported by the verbs that use it, not here: `spec` and
`--version` should not pay for it, and every runc call is a fresh process.

Flags are read the way runc's own CLI library (urfave/cli, over Go's flag package)
reads them: they come before the arguments (`runc kill --all ID KILL`), and the
first argument ends them (`runc exec ID ls -l`: -l is ls's). The parser is the
docker-style one our client uses too (shared/flags.py), not argparse: argparse
and what it imports cost ~15 ms, paid on every one of the 3+ runc calls a container
takes.
"""

from __future__ import annotations

import os
import sys

from shared.flags import Command, UsageError
from stages.stage3_containerd.runc.log import Log

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    import socket
    from typing import Any

DEFAULT_ROOT = "/run/whalebones/runc"
# runc's rule (^[\w+\-.]+$): an ID is a directory name and must never be a path.
# (Spelled out rather than taken from `string`, whose import compiles a regex: ~2 ms
# of every runc call.)
ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")


class RuncError(Exception):
    """A request that cannot be carried out; the message says which and why."""


class Args:
    """A verb's parsed command line: its flags as attributes, then its arguments."""

    def __init__(self, values: dict[str, Any], arguments: list[str]) -> None:
        self.__dict__.update(values)
        self.arguments = arguments

    def __getattr__(self, name: str) -> Any:
        """Called only for a name that is none of the verb's flags. Declared so that
        `args.detach` type-checks: which flags a verb has is its Command's, at run time
        (argparse.Namespace is typed the same way)."""
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}",
                             name=name, obj=self)


def parse(command: Command, argv: list[str]) -> Args:
    """Read a verb's flags and check its number of arguments; --help prints the
    usage and exits 0. Bad usage is a RuncError: one logged line, exit status 1."""
    try:
        values, arguments = command.parse(argv)
    except UsageError as e:
        raise RuncError(f"{command.name}: {e}" if command.name else str(e)) from None
    if values.get("help"):
        print(command.help_text("runc"), end="")
        sys.exit(0)
    low, high = command.min_args, command.max_args
    if len(arguments) < low or (high is not None and len(arguments) > high):
        wanted = f"exactly {low}" if low == high else f"at least {low}" if high is None else \
            f"{low} to {high}"
        raise RuncError(f'"{command.name}" requires {wanted} argument(s)')
    return Args(values, arguments)


class Runtime:
    def __init__(self, root: str, log: Log) -> None:
        self.root = os.path.abspath(root)
        self.log = log

    def state_dir(self, cid: str) -> str:
        if not cid or cid in (".", "..") or not set(cid) <= ID_CHARS:
            raise RuncError(f"invalid container id {cid!r}: use letters, digits and _+-.")
        return os.path.join(self.root, cid)

    def make_root(self) -> None:
        os.makedirs(self.root, mode=0o700, exist_ok=True)

    def ids(self) -> list[str]:
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if os.path.exists(os.path.join(self.root, n, "state.json")))

    def save_bundle(self, cid: str, bundle: str) -> None:
        with open(os.path.join(self.state_dir(cid), "bundle"), "w") as f:
            f.write(bundle)

    def bundle(self, cid: str) -> str:
        try:
            with open(os.path.join(self.state_dir(cid), "bundle")) as f:
                return f.read()
        except FileNotFoundError:
            return ""


def write_pid_file(path: str, pid: int) -> None:
    """Digits only, no newline, and never half-written: the shim reads this file the
    moment we exit, so it is written beside its final name and renamed into place."""
    path = os.path.abspath(path)
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
    with open(tmp, "w") as f:
        f.write(str(pid))
    os.rename(tmp, path)


def connect_console(path: str) -> socket.socket:
    """The caller listens on `path`; the container's process will send the pty master
    down this connection itself (SCM_RIGHTS), from inside the container."""
    import socket  # only create and exec with a terminal need it

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as e:
        sock.close()
        raise RuncError(f"connect to console socket {path}: {e.strerror}") from None
    return sock
