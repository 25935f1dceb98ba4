"""Stage 1, the LXC era: one daemon, and LXC's tools make the containers.

    whalebones CLI / docker CLI / docker-py
        │  Engine API (HTTP on a unix socket)
        ▼
    daemon  ── API, images, names, logs (shared/)
        │  an OCI spec -> an LXC config file (lxc_config.py)
        ▼
    lxc-start / lxc-attach / lxc-stop  (lxc_executor.py), children of the daemon
        ▼
    liblxc ── clone, mounts, cgroups, pivot_root, capabilities
        ▼
    kernel
"""

from __future__ import annotations

import argparse
import os

from shared.daemon import main
from stages.stage1_lxc.lxc_executor import LxcExecutor

STAGE = "stage1_lxc"


def make_executor(args: argparse.Namespace) -> LxcExecutor:
    return LxcExecutor(os.path.join(args.exec_root, STAGE, "lxc"))


def run(argv: list[str] | None = None) -> None:
    main.run(STAGE, make_executor, argv)
