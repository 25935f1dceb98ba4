"""Stage 2, the libcontainer era: one daemon, and the containers are its own children.

    whalebones CLI / docker CLI / docker-py
        │  Engine API (HTTP on a unix socket)
        ▼
    daemon  ── API, images, names, logs (shared/)
        │  an OCI spec, in-process
        ▼
    libcontainer ── fork, unshare, cgroups, pivot_root, execve (native_executor.py)
        ▼
    kernel
"""

from __future__ import annotations

import argparse
import os

from shared.daemon import main
from stages.stage2_libcontainer.native_executor import NativeExecutor

STAGE = "stage2_libcontainer"


def make_executor(args: argparse.Namespace) -> NativeExecutor:
    return NativeExecutor(os.path.join(args.exec_root, STAGE, "libcontainer"))


def run(argv: list[str] | None = None) -> None:
    main.run(STAGE, make_executor, argv)
