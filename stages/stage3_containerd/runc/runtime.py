"""What every verb shares: the state root, the log, and a few files it writes.

    <root>/                  --root, default /run/whalebones/runc, mode 0700
    <root>/<id>/             libcontainer's state directory for one container
    <root>/<id>/bundle       the bundle path, for `state` and `list` (ours, not libcontainer's)

libcontainer itself is imported by the verbs that use it, not here: `spec` and
`--version` should not pay for it, and every runc call is a fresh process.
"""

from __future__ import annotations

import os
import socket
import string

from stages.stage3_containerd.runc.log import Log

DEFAULT_ROOT = "/run/whalebones/runc"
# runc's rule (^[\w+\-.]+$): an ID is a directory name and must never be a path.
ID_CHARS = frozenset(string.ascii_letters + string.digits + "_+-.")


class RuncError(Exception):
    """A request that cannot be carried out; the message says which and why."""


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
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as e:
        sock.close()
        raise RuncError(f"connect to console socket {path}: {e.strerror}") from None
    return sock
