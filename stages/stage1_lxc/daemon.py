"""Stage 1, the LXC era: one daemon, and LXC's tools make the containers.

    whalebones CLI / docker CLI / docker-py
        │  Engine API (HTTP on a unix socket)
        ▼
    daemon  ── API, images, names, logs (shared/)
        │  an OCI spec -> an LXC config file (lxc_config.py)
        ▼
    lxc-start / lxc-attach / lxc-stop  (lxc_executor.py), children of the daemon
        │  or, with --lxc-api python, liblxc's own calls (lxc_bindings.py)
        ▼
    liblxc ── clone, mounts, cgroups, pivot_root, capabilities
        ▼
    kernel
"""

from __future__ import annotations

import argparse
import os

from shared.daemon import main
from stages.stage1_lxc.lxc_executor import APIS, LxcExecutor

STAGE = "stage1_lxc"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lxc-api",
        choices=APIS,
        default=os.environ.get("WB_LXC_API") or "tools",
        help="drive LXC through its command-line tools (lxc-start, lxc-attach, lxc-stop) "
        "or through liblxc's Python bindings, python3-lxc (default: $WB_LXC_API or tools)",
    )


def make_executor(args: argparse.Namespace) -> LxcExecutor:
    try:
        return LxcExecutor(os.path.join(args.exec_root, STAGE, "lxc"), args.lxc_api)
    except ImportError as e:
        raise SystemExit(f"--lxc-api python: {e}") from None


def run(argv: list[str] | None = None) -> None:
    main.run(STAGE, make_executor, argv, add_arguments)
