"""Stage 3, the split: the daemon keeps the API, images, names and logs; containerd
keeps the containers; `runc` makes them and exits.

    whalebones CLI / docker CLI / docker-py
        │  Engine API
        ▼
    daemon ── shared/ (API, engine, images, logs)
        │  gRPC (proto/containerd.proto)
        ▼
    containerd ── containerd/ (bundles, the runtime, waits as subreaper)
        │  exec: runc create / start / exec / kill / delete
        ▼
    runc ── runc/ (a CLI over stage 2's libcontainer), exits once the container runs
"""

from __future__ import annotations

import argparse

from shared.daemon import main
from stages.stage3_containerd.containerd_executor import ContainerdExecutor

STAGE = "stage3_containerd"
DEFAULT_CONTAINERD = "unix:///run/whalebones/containerd.sock"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--containerd", default=DEFAULT_CONTAINERD, help="containerd's gRPC address")


def make_executor(args: argparse.Namespace) -> ContainerdExecutor:
    return ContainerdExecutor(args.containerd)


def run(argv: list[str] | None = None) -> None:
    main.run(STAGE, make_executor, argv, add_arguments)
