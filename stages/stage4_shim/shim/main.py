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

import argparse
import os
import socket
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="whalebones-shim", description=__doc__.splitlines()[0])
    p.add_argument("--id", required=True)
    p.add_argument("--namespace", default="whalebones")
    p.add_argument("--bundle", required=True)
    p.add_argument("--socket", required=True, help="where to serve the shim's API")
    p.add_argument("--runtime", required=True, help="the OCI runtime binary")
    p.add_argument("--runtime-root", required=True, help="the runtime's --root")
    args = p.parse_args(argv)

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
    from stages.stage4_shim.shim.server import Shim, set_child_subreaper

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
