"""runc's log: one line per event, in the --log file, in logrus's text or JSON format.

containerd's runc shim runs every command with `--log <bundle>/log.json --log-format
json` and, when a command fails, reads the last error line back to tell its own
caller why:

    {"level":"error","msg":"container does not exist","time":"2026-11-28T16:20:14Z"}

Those few lines are the whole interface, so they are written by hand here rather
than through the logging module. Without --log, lines go to stderr.
"""

from __future__ import annotations

import json
import sys
import time


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Log:
    def __init__(self, path: str = "", fmt: str = "text", debug: bool = False) -> None:
        self.path = path
        self.fmt = fmt
        self.debugging = debug

    def _write(self, level: str, msg: str) -> None:
        if self.fmt == "json":
            line = json.dumps({"level": level, "msg": msg, "time": _now()})
        else:
            line = f"time={json.dumps(_now())} level={level} msg={json.dumps(msg)}"
        if not self.path:
            print(line, file=sys.stderr, flush=True)
            return
        # O_APPEND: the shim's several runc processes may share one log file.
        with open(self.path, "a") as f:
            f.write(line + "\n")

    def debug(self, msg: str) -> None:
        if self.debugging:
            self._write("debug", msg)

    def warning(self, msg: str) -> None:
        self._write("warning", msg)

    def error(self, msg: str) -> None:
        """Log it; a human at a terminal also gets the bare message on stderr."""
        self._write("error", msg)
        if self.path:
            print(msg, file=sys.stderr, flush=True)
