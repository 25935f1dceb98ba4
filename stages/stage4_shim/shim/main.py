"""The shim: start-up, then one Task served over a unix socket until it is deleted.

containerd runs `whalebones-shim --id ID --bundle B --socket S ...` and waits for it to
exit. It does, at once, after forking the real shim; so:

- the shim is not containerd's child: orphaned by the exit, it is re-parented to the
  host's init (or the nearest subreaper), and containerd can die or restart without
  taking it along. containerd started it in a session of its own (setsid), so no
  terminal's hang-up or job-control signal meant for containerd reaches it either;
- the socket is bound and listening *before* the fork: when containerd sees the first
  process exit 0, it can connect straight away, with no polling and no race;
- the shim is a child subreaper: `runc create` forks the container's init and exits,
  and the orphaned init comes to the shim, its parent from then on. The shim waits
  for it, keeps its exit status (in memory and in the bundle, for a containerd that
  was away) and answers `wait` calls with it.

The shim exits after `delete`, or `shutdown`. It logs to the bundle's shim.log.
"""

from __future__ import annotations

import os
import socket
import sys

from shared.flags import Command, Flag, UsageError

# Flags as our docker CLI reads them (shared/flags.py), not argparse: argparse
# and what it imports cost ~15 ms, on the path of every container's start.
COMMAND = Command("", "--id ID --bundle DIR --socket PATH --runtime BIN --runtime-root DIR",
                  __doc__.splitlines()[0], [
    Flag("--id", "the container's ID", metavar="id"),
    Flag("--namespace", "containerd's namespace", metavar="name", default="whalebones"),
    Flag("--bundle", "the container's OCI bundle", metavar="dir"),
    Flag("--socket", "where to serve the shim's API", metavar="path"),
    Flag("--runtime", "the OCI runtime binary", metavar="bin"),
    Flag("--runtime-root", "the runtime's --root", metavar="dir"),
], max_args=0)


class Args:
    """The command line, read: id, namespace, bundle, socket, runtime, runtime_root."""

    def __init__(self, argv: list[str]) -> None:
        try:
            values, _ = COMMAND.parse(argv)
        except UsageError as e:
            sys.exit(f"whalebones-shim: {e}")
        if values.get("help"):
            print(COMMAND.help_text("whalebones-shim"), end="")
            sys.exit(0)
        missing = [f"--{k.replace('_', '-')}" for k, v in values.items()
                   if v is None and k != "help"]
        if missing:
            sys.exit(f"whalebones-shim: required: {', '.join(missing)}")
        self.id: str = values["id"]
        self.namespace: str = values["namespace"]
        self.bundle: str = values["bundle"]
        self.socket: str = values["socket"]
        self.runtime: str = values["runtime"]
        self.runtime_root: str = values["runtime_root"]


def main(argv: list[str] | None = None) -> int:
    args = Args(sys.argv[1:] if argv is None else argv)

    if os.path.exists(args.socket):
        os.unlink(args.socket)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # only root (containerd) may talk to a shim
    listener.bind(args.socket)
    os.umask(old)
    listener.listen(64)
    if os.fork() > 0:
        return 0  # containerd's child is done; the shim below it is now an orphan
    # Only now the rest of the shim: containerd waited for none of it.
    from shared.libc import set_child_subreaper
    from stages.stage4_shim.shim.server import Shim

    os.chdir(args.bundle)
    set_child_subreaper()
    shim = Shim(args, listener)
    print(f"shim {os.getpid()} for {args.id} serving on {args.socket}", file=sys.stderr)
    try:
        shim.serve()
    finally:
        listener.close()
        if os.path.exists(args.socket):
            os.unlink(args.socket)
    return 0
