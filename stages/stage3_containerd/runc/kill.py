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

import argparse
import signal

from stages.stage2_libcontainer.libcontainer import Container
from stages.stage3_containerd.runc.runtime import RuncError, Runtime


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
    p = argparse.ArgumentParser(prog="runc kill", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--all", "-a", action="store_true", help="signal every process")
    p.add_argument("id")
    p.add_argument("signal", nargs="?", default="SIGTERM")
    a = p.parse_args(argv)
    sig = parse_signal(a.signal)
    container = Container.load(a.id, rt.state_dir(a.id))
    container.signal(sig, all=a.all)
    return 0
