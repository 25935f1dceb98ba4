"""`exec`: run one more process in a container that is running.

    runc exec --process P.json [--detach] [--pid-file F] [--console-socket S] ID
    runc exec [--tty] [--cwd DIR] [--env K=V]... [--user UID[:GID]] ID CMD [ARG...]

P.json is an OCI `process` object (args, env, cwd, user, terminal, capabilities...);
containerd always writes one. Without it, the container's own process settings
are the template and the flags change them.

libcontainer joins the container's namespaces (setns on /proc/<init>/ns/*) and its
cgroup, then forks, since joining a pid namespace, like making one, only takes effect
for the next child. Detached, we write the process's pid and exit, and it goes to
the nearest subreaper, like an init after `create`; otherwise we wait for it.
"""

from __future__ import annotations

import copy
import json
import socket

from shared.flags import Command, Flag
from shared.libc import set_child_subreaper
from stages.stage2_libcontainer.libcontainer import Container, Stdio
from stages.stage2_libcontainer.libcontainer.console import receive
from stages.stage3_containerd.runc import foreground
from stages.stage3_containerd.runc.runtime import (
    Args,
    RuncError,
    Runtime,
    connect_console,
    parse,
    write_pid_file,
)

COMMAND = Command("exec", "[flags] ID [COMMAND [ARG...]]", __doc__.splitlines()[0], [
    Flag("-p, --process", "an OCI process JSON file", metavar="file", default=""),
    Flag("-d, --detach", "do not wait for it"),
    Flag("--pid-file", "write the process's host pid here", metavar="file", default=""),
    Flag("--console-socket", "unix socket to send the pty master to, with a terminal",
         metavar="path", default=""),
    Flag("-t, --tty", "allocate a pseudo-terminal"),
    Flag("--cwd", "working directory inside the container", metavar="dir", default=""),
    Flag("-e, --env", "K=V, repeatable", metavar="K=V", many=True),
    Flag("-u, --user", "UID[:GID]", metavar="uid[:gid]", default=""),
], min_args=1, interspersed=False)


def process_from_flags(a: Args, container: Container) -> dict:
    command = a.arguments[1:]
    if not command:
        raise RuncError(f"exec {container.id}: no command given (and no --process file)")
    process = copy.deepcopy(container.spec["process"])
    process.update(args=command, terminal=a.tty)
    if a.cwd:
        process["cwd"] = a.cwd
    process["env"] = process.get("env", []) + a.env
    if a.user:
        uid, _, gid = a.user.partition(":")
        process["user"] = {"uid": int(uid), "gid": int(gid or 0)}
    return process


def main(argv: list[str], rt: Runtime) -> int:
    a = parse(COMMAND, argv)
    cid = a.arguments[0]
    container = Container.load(cid, rt.state_dir(cid))
    if a.process:
        with open(a.process) as f:
            process = json.load(f)
    else:
        process = process_from_flags(a, container)
    terminal = bool(process.get("terminal"))
    if a.detach and terminal and not a.console_socket:
        raise RuncError("cannot allocate tty if runc will detach without setting console socket")
    if a.console_socket and not (a.detach and terminal):
        raise RuncError("cannot use console socket if runc will not detach or allocate tty")

    ours = None
    if a.console_socket:
        console = connect_console(a.console_socket)
    elif terminal:
        ours, console = socket.socketpair()
    else:
        console = None
    if not a.detach:
        set_child_subreaper()  # the process must become our child to wait for
    try:
        pid = container.exec(process, Stdio(0, 1, 2), console)
    finally:
        if console is not None:
            console.close()
    if a.pid_file:
        write_pid_file(a.pid_file, pid)
    if a.detach:
        return 0
    tty = foreground.Terminal(receive(ours)[1]) if ours is not None else None
    try:
        return foreground.wait(pid, tty)
    finally:
        if tty is not None:
            tty.close()
