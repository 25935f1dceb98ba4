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

import importlib
import sys

from shared import trace
from shared.flags import Command, Flag
from stages.stage3_containerd.runc.log import Log
from stages.stage3_containerd.runc.runtime import DEFAULT_ROOT, RuncError, Runtime, parse

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
    "features": "print what this runtime implements, as JSON",
}

# runc's exit statuses: 1 for any failure, but 255 for a failed `exec` (exec.go's
# fatalWithCode), so that a caller can tell it from the exec'd program's own status;
# an unknown verb is urfave/cli's 3.
EXIT_FAILURE = 1
EXIT_EXEC_FAILED = 255
EXIT_NO_SUCH_VERB = 3

GLOBAL = Command(
    "", "[global flags] VERB [flags] [ID] ...",
    "An OCI runtime: the runc command line over stage 2's libcontainer.\n\nVerbs:\n"
    + "\n".join(f"  {verb:8} {summary}" for verb, summary in VERBS.items()),
    [
        Flag("--root", "state directory root", metavar="dir", default=DEFAULT_ROOT),
        Flag("--log", "log file (default: stderr)", metavar="file", default=""),
        Flag("--log-format", "text or json", metavar="format", default="text"),
        Flag("--systemd-cgroup", "accepted, not supported: cgroupfs paths are used"),
        Flag("--rootless", "accepted; only 'false' is supported", metavar="value",
             default="false"),
        Flag("--debug", "log debug lines too"),
        Flag("-v, --version", "print the version"),
    ],
    interspersed=False,
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        g = parse(GLOBAL, argv)
        if g.version:
            print(VERSION)
            return 0
        if not g.arguments:
            print(GLOBAL.help_text("whalebones-runc"), end="")
            return 0
        verb, *rest = g.arguments
        if verb not in VERBS:
            print(f"No help topic for '{verb}'", file=sys.stderr)
            return EXIT_NO_SUCH_VERB
        if g.log_format not in ("text", "json"):
            raise RuncError(f"--log-format {g.log_format!r}: text or json")
    except RuncError as e:  # nothing to log into yet: runc's usage errors go to stderr
        print(f"runc: {e}", file=sys.stderr)
        return 1
    log = Log(g.log, g.log_format, g.debug)
    log.debug(f"argv: {argv}")
    if g.systemd_cgroup:
        log.warning("--systemd-cgroup is not supported: using cgroupfs paths as given")
    try:
        if g.rootless not in ("false", "auto"):
            raise RuntimeError("rootless containers are not supported")
        module = importlib.import_module(f"{__package__}.{verb}")
        with trace.span("runc", "serve", verb):
            return module.main(rest, Runtime(g.root, log))
    except Exception as e:  # any failure: one error line, exit status 1
        message = str(e) or repr(e)
        if not message.startswith(verb):
            message = f"{verb}: {message}"
        log.error(message)
        return EXIT_EXEC_FAILED if verb == "exec" else EXIT_FAILURE
