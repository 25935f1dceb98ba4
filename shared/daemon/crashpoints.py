"""Named points on the run path where a test can stop the daemon dead.

A daemon can be killed at any instant, and the next one must recover whatever the
dead one left (a mounted rootfs, a network namespace, an executor's half-made
container). To prove it for each step of `start`, a test needs the daemon to stand
still exactly between two steps: with WHALEBONES_PAUSE_AT=<point> in its environment,
the daemon that reaches that point writes `<exec root>/paused-at-<point>` and waits
there for ever; the test then kills it with SIGKILL. Without the variable a point
costs one string comparison.
"""

from __future__ import annotations

import os
import threading

PAUSE_AT = os.environ.get("WHALEBONES_PAUSE_AT", "")


def reached(point: str, exec_root: str) -> None:
    if point != PAUSE_AT:
        return
    with open(os.path.join(exec_root, f"paused-at-{point}"), "w"):
        pass
    threading.Event().wait()  # until the test kills the daemon
