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

import argparse
import os
import socket

from stages.stage2_libcontainer.libcontainer import Container, Stdio
from stages.stage3_containerd.runc.bundle import load_spec
from stages.stage3_containerd.runc.runtime import (
    RuncError,
    Runtime,
    connect_console,
    write_pid_file,
)


def add_create_flags(p: argparse.ArgumentParser) -> None:
    """The flags `create` and `run` share."""
    p.add_argument("--bundle", "-b", default=".", help="the bundle directory (default: .)")
    p.add_argument("--pid-file", default="", help="write init's pid here")
    p.add_argument("--console-socket", default="",
                   help="unix socket to send the pty master to, when process.terminal")
    p.add_argument("--no-pivot", action="store_true",
                   help="accepted; pivot_root is always used")
    p.add_argument("--no-new-keyring", action="store_true",
                   help="accepted; no session keyring is ever made")
    p.add_argument("--preserve-fds", type=int, default=0,
                   help="accepted; only 0 is supported (fds above 2 are closed)")
    p.add_argument("id")


def create(a: argparse.Namespace, rt: Runtime,
           console: socket.socket | None = None) -> Container:
    """Make the container from the bundle. `console` is a socket for the pty master
    that `run` in the foreground made itself, used if process.terminal is set;
    otherwise --console-socket is connected to."""
    if a.preserve_fds:
        raise RuncError(f"create {a.id}: --preserve-fds {a.preserve_fds} is not supported")
    bundle = os.path.abspath(a.bundle)
    spec = load_spec(bundle, a.id)
    terminal = bool(spec["process"].get("terminal"))
    if a.console_socket:  # runc's two rules, with runc's words
        if not terminal:
            raise RuncError("cannot use console socket if runc will not detach or allocate tty")
        console = connect_console(a.console_socket)
    if terminal and console is None:
        raise RuncError("cannot allocate tty if runc will detach without setting console socket")
    rt.make_root()
    try:
        container = Container.create(a.id, spec, rt.state_dir(a.id), Stdio(0, 1, 2),
                                     console if terminal else None)
    finally:
        if console is not None:
            console.close()  # init has its own copy
    try:
        rt.save_bundle(a.id, bundle)
        if a.pid_file:
            write_pid_file(a.pid_file, container.pid)
    except OSError:
        container.destroy()  # nobody would ever learn its pid: do not leave it behind
        raise
    rt.log.debug(f"created {a.id}: init is pid {container.pid}")
    return container


def main(argv: list[str], rt: Runtime) -> int:
    p = argparse.ArgumentParser(prog="runc create", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_create_flags(p)
    create(p.parse_args(argv), rt)
    return 0
