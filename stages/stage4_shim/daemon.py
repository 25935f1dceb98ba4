"""Stage 4: the daemon is stage 3's, unchanged but for one thing it may now rely on.

    daemon ── shared/ (API, engine, images, logs)
        │  gRPC (stage 3's proto/containerd.proto)
        ▼
    containerd ── containerd/ (bundles; starts one shim per container)
        │  JSON lines over a unix socket (shim/protocol.py)
        ▼
    whalebones-shim ── shim/ (one per container: its parent, its stdio, its exit)
        │  exec: runc create / start / exec / kill / delete
        ▼
    runc ── stage 3's runc, unchanged; exits once the container runs

With shims, a container outlives containerd as well as the daemon: when containerd
goes away in the middle of a Wait, the daemon waits for the next containerd.
"""

from __future__ import annotations

import argparse

from shared.daemon import main
from stages.stage3_containerd.containerd_executor import ContainerdExecutor
from stages.stage3_containerd.daemon import add_arguments

STAGE = "stage4_shim"


class ShimmedContainerdExecutor(ContainerdExecutor):
    containers_outlive_containerd = True


def make_executor(args: argparse.Namespace) -> ContainerdExecutor:
    return ShimmedContainerdExecutor(args.containerd)


def run(argv: list[str] | None = None) -> None:
    main.run(STAGE, make_executor, argv, add_arguments)
