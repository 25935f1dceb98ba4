"""containerd's side of the shims: starting one, finding it again, calling it.

Every shim leaves two files in its bundle that outlive containerd: `address` (where its
socket is) and, once the container has exited, `exit.json`. A restarted containerd
reads them back: that is all the state it needs to find its containers again.
"""

from __future__ import annotations

import os
import subprocess
import threading

from shared import trace
from stages.stage4_shim.shim.protocol import ShimError, ShimGone, call

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SHIM_BINARY = os.path.join(REPO, "bin", "whalebones-shim")
ADDRESS_FILE = "address"

__all__ = ["ShimClient", "ShimError", "ShimGone", "start_shim", "SHIM_BINARY"]


class ShimClient:
    def __init__(self, address: str) -> None:
        self.address = address

    def call(self, method: str, timeout: float | None = 30.0, **params: object) -> object:
        with trace.span("containerd", "call", method, "shim"):
            return call(self.address, method, timeout, **params)


def start_shim(
    ns: str, cid: str, bundle: str, address: str, runtime: str, runtime_root: str
) -> ShimClient:
    """Run the shim and wait for its first process to exit: by then the real shim,
    forked below it and orphaned, is listening on `address`."""
    command = [
        SHIM_BINARY,
        "--namespace", ns,
        "--id", cid,
        "--bundle", bundle,
        "--socket", address,
        "--runtime", runtime,
        "--runtime-root", runtime_root,
    ]  # fmt: skip
    log_path = os.path.join(bundle, "shim.log")
    with trace.span("containerd", "call", "start shim", "shim"):
        with open(log_path, "ab") as log:
            first = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=bundle,
                start_new_session=True,  # setsid: its own session, no terminal of ours
            )
        # A blocking wait, with a timer for the rare shim that hangs: Popen.wait(timeout)
        # polls, sleeping 1, 2, 4, 8, 16 ms... between looks, and so sees a shim ready
        # after 16 ms only at 31 ms (measured with children that exit after 5-18 ms:
        # the blocking wait returns 2-11 ms sooner).
        timer = threading.Timer(30, first.kill)
        timer.start()
        try:
            code = first.wait()
        finally:
            timer.cancel()
    if code != 0:
        with open(log_path, errors="replace") as f:
            tail = f.read().strip().splitlines()[-1:]
        raise ShimError("failed", f"start shim for {cid}: exit {code}: {' '.join(tail)}")
    with open(os.path.join(bundle, ADDRESS_FILE), "w") as f:
        f.write(address)
    return ShimClient(address)


def find_shim(bundle: str) -> ShimClient | None:
    try:
        with open(os.path.join(bundle, ADDRESS_FILE)) as f:
            return ShimClient(f.read().strip())
    except FileNotFoundError:
        return None
