"""`run`: create and start in one go, and by default wait for the container to exit.

    runc run [--bundle B] [--pid-file F] ID            exit code = the container's
    runc run --detach [--console-socket S] ID          create + start, then exit

In the foreground this is runc at its most like `docker run`: it is the container's
parent (see foreground.py), its exit code is the container's, and when the
container is gone it deletes it. Detached, it is `create` then `start`, and the
container is left to whoever is the nearest subreaper, exactly as after `create`.
"""

from __future__ import annotations

import socket

from shared.flags import Command, Flag
from shared.libc import set_child_subreaper
from stages.stage2_libcontainer.libcontainer.console import receive
from stages.stage3_containerd.runc import foreground
from stages.stage3_containerd.runc.create import CREATE_FLAGS, create
from stages.stage3_containerd.runc.runtime import RuncError, Runtime, parse

COMMAND = Command("run", "[flags] ID", __doc__.splitlines()[0],
                  [Flag("-d, --detach", "do not wait for it"), *CREATE_FLAGS],
                  min_args=1, max_args=1, interspersed=False)


def main(argv: list[str], rt: Runtime) -> int:
    a = parse(COMMAND, argv)
    if a.detach:
        container = create(a, rt)
        try:
            container.start(rt.log.warning)
        except BaseException:
            container.destroy(rt.log.warning)
            raise
        return 0
    if a.console_socket:
        raise RuncError("cannot use console socket if runc will not detach or allocate tty")
    set_child_subreaper()  # before create: the container's init must become our child
    ours, theirs = socket.socketpair()  # for the pty master, if the spec asks for one
    container = create(a, rt, console=theirs)
    terminal = None
    try:
        if container.spec["process"].get("terminal"):
            terminal = foreground.Terminal(receive(ours)[1])
        ours.close()
        foreground.forward_signals(container.pid, terminal)
        container.start(rt.log.warning)
        code = foreground.wait(container.pid, terminal)
    finally:
        if terminal is not None:
            terminal.close()
        container.destroy(rt.log.warning)
    return code
