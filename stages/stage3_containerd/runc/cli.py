"""`whalebones-runc [GLOBAL FLAGS] VERB [FLAGS] [ID] ...`: parse the global flags, run a verb.

The global flags are the ones containerd's shim puts before every verb (go-runc):

    --root DIR            where container state lives (default /run/whalebones/runc)
    --log FILE            append log lines there instead of writing them to stderr
    --log-format text|json
    --systemd-cgroup      accepted; cgroups are always made as cgroupfs directories
    --debug               log debug lines too (each call's argv, for one)

Each verb is a module of this package, imported only when it is the one asked for:
every call is a new process, and what it imports is most of what it costs.
Any failure is logged as an error and the exit status is 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from shared import trace
from stages.stage3_containerd.runc.log import Log
from stages.stage3_containerd.runc.runtime import DEFAULT_ROOT, Runtime

VERSION = "runc version 1.1.0-whalebones\nspec: 1.0.2"

VERBS = {
    "create": "create a container from a bundle; its init waits for `start`",
    "start": "let a created container's init run its program",
    "run": "create and start a container, and wait for it (unless --detach)",
    "state": "print a container's state as JSON",
    "kill": "send a signal to a container's init (or all its processes)",
    "delete": "remove a stopped container (--force: any container)",
    "exec": "run another process inside a container",
    "ps": "list the processes of a container",
    "list": "list the containers under --root",
    "pause": "freeze every process of a container",
    "resume": "thaw a paused container",
    "update": "change a container's resource limits",
    "spec": "write a starter config.json",
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="whalebones-runc", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="An OCI runtime: the runc command line over stage 2's libcontainer.",
        epilog="verbs:\n" + "\n".join(f"  {v:8} {h}" for v, h in VERBS.items()))
    p.add_argument("--root", default=DEFAULT_ROOT, help="state directory root")
    p.add_argument("--log", default="", help="log file (default: stderr)")
    p.add_argument("--log-format", choices=["text", "json"], default="text")
    p.add_argument("--systemd-cgroup", action="store_true",
                   help="accepted, not supported: cgroupfs paths are used")
    p.add_argument("--rootless", default="false", help="accepted; only 'false' is supported")
    p.add_argument("--debug", action="store_true")
    p.add_argument("-v", "--version", action="version", version=VERSION)
    p.add_argument("verb", choices=VERBS, metavar="VERB")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the verb's own flags and arguments")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    log = Log(args.log, args.log_format, args.debug)
    log.debug(f"argv: {sys.argv if argv is None else argv}")
    if args.systemd_cgroup:
        log.warning("--systemd-cgroup is not supported: using cgroupfs paths as given")
    verb = importlib.import_module(f"{__package__}.{args.verb}")
    try:
        if args.rootless not in ("false", "auto"):
            raise RuntimeError("rootless containers are not supported")
        with trace.span("runc", "serve", args.verb):
            return verb.main(args.args, Runtime(args.root, log))
    except Exception as e:  # any failure: one error line, exit status 1
        message = str(e) or repr(e)
        if not message.startswith(args.verb):
            message = f"{args.verb}: {message}"
        log.error(message)
        return 1
