"""`create`: the first half of the OCI lifecycle, and what containerd calls first.

    runc create --bundle B --pid-file F [--console-socket S] ID

Reads B/config.json and has libcontainer make the container's init: namespaces,
cgroup, rootfs, pivot_root, everything but the program itself. Init then blocks on
<root>/<id>/exec.fifo, the state is `created`, its pid goes into F, and we exit.

Exiting is the point. Init was forked by libcontainer's intermediate process, which
has already exited too, so init is re-parented to the nearest child subreaper above
us: containerd (stage 3) or the shim (stage 4) waits for it, not runc.

Without a terminal, init inherits our fds 0, 1 and 2 (the caller's pipes or FIFOs).
With process.terminal, the caller passes --console-socket and init sends the pty
master down it itself.
"""

from __future__ import annotations

import os

from shared.flags import Command, Flag
from stages.stage2_libcontainer.libcontainer import Container, Stdio
from stages.stage3_containerd.runc.bundle import load_spec
from stages.stage3_containerd.runc.runtime import (
    Args,
    RuncError,
    Runtime,
    connect_console,
    parse,
    write_pid_file,
)

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    import socket

# The flags `create` and `run` share.
CREATE_FLAGS = [
    Flag("-b, --bundle", "the bundle directory (default: .)", metavar="dir", default="."),
    Flag("--pid-file", "write init's pid here", metavar="file", default=""),
    Flag("--console-socket", "unix socket to send the pty master to, when process.terminal",
         metavar="path", default=""),
    Flag("--no-pivot", "accepted; pivot_root is always used"),
    Flag("--no-new-keyring", "accepted; no session keyring is ever made"),
    Flag("--preserve-fds", "accepted; only 0 is supported (fds above 2 are closed)",
         metavar="n", default=0, convert=int),
]
COMMAND = Command("create", "[flags] ID", __doc__.splitlines()[0], CREATE_FLAGS,
                  min_args=1, max_args=1, interspersed=False)


def create(a: Args, rt: Runtime, console: socket.socket | None = None) -> Container:
    """Make the container from the bundle. `console` is a socket for the pty master
    that `run` in the foreground made itself, used if process.terminal is set;
    otherwise --console-socket is connected to."""
    cid = a.arguments[0]
    if a.preserve_fds:
        raise RuncError(f"create {cid}: --preserve-fds {a.preserve_fds} is not supported")
    bundle = os.path.abspath(a.bundle)
    spec = load_spec(bundle, cid)
    terminal = bool(spec["process"].get("terminal"))
    if a.console_socket:  # runc's two rules, with runc's words
        if not terminal:
            raise RuncError("cannot use console socket if runc will not detach or allocate tty")
        console = connect_console(a.console_socket)
    if terminal and console is None:
        raise RuncError("cannot allocate tty if runc will detach without setting console socket")
    rt.make_root()
    try:
        container = Container.create(cid, spec, rt.state_dir(cid), Stdio(0, 1, 2),
                                     console if terminal else None, warn=rt.log.warning)
    finally:
        if console is not None:
            console.close()  # init has its own copy
    try:
        rt.save_bundle(cid, bundle)
        if a.pid_file:
            write_pid_file(a.pid_file, container.pid)
    except OSError:
        container.destroy(rt.log.warning)  # nobody would ever learn its pid: do not leave it behind
        raise
    rt.log.debug(f"created {cid}: init is pid {container.pid}")
    return container


def main(argv: list[str], rt: Runtime) -> int:
    create(parse(COMMAND, argv), rt)
    return 0
