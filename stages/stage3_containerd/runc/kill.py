"""`kill`: send a signal to a container's init, or with --all to all its processes.

    runc kill [--all] ID [SIGNAL]      SIGNAL: 15, TERM or SIGTERM (default SIGTERM)

This is how a container is stopped: containerd sends SIGTERM, waits, then SIGKILL.
Init is pid 1 of its pid namespace, and the kernel delivers to a pid 1 only the
signals it has a handler for (SIGKILL from outside excepted): a shell as init ignores
SIGTERM. When init dies, the kernel kills every other process in the namespace.

--all walks the cgroup's process list instead: the way to reach every process when
the container has no pid namespace of its own.
"""

from __future__ import annotations

import signal

from shared.flags import Command, Flag
from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime, parse

COMMAND = Command("kill", "[flags] ID [SIGNAL]", __doc__.splitlines()[0],
                  [Flag("-a, --all", "signal every process")],
                  min_args=1, max_args=2, interspersed=False)


def parse_signal(text: str) -> int:
    """15, TERM, SIGTERM, sigterm -> 15."""
    if text.isdigit():
        return int(text)
    name = text.upper()
    try:
        return int(signal.Signals[name if name.startswith("SIG") else "SIG" + name])
    except KeyError:
        raise RuncError(f"unknown signal {text!r}") from None


def main(argv: list[str], rt: Runtime) -> int:
    a = parse(COMMAND, argv)
    cid, name = (a.arguments + ["SIGTERM"])[:2]
    sig = parse_signal(name)
    container = Container.load(cid, rt.state_dir(cid))
    container.signal(sig, all=a.all)
    return 0
