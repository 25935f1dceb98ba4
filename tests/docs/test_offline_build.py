"""`make docs` fetches nothing once `make prepare` has run: a workshop room may have no
internet. Proven by running it in a new network namespace, where the only interface is
a loopback that is not even up: any pip, npm or HTTP fetch at build time fails there.

Needs root (unshare -n) and a prepared checkout; otherwise skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# what `make prepare` leaves behind for `make docs` (the Makefile's own targets)
PREPARED = [".venv/.installed", ".venv/.docs-installed", "docs/assets/vendor/mermaid.min.js"]


def unprepared() -> str | None:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return "needs root and unshare(1) for a network namespace"
    # make --question: exit 0 only when these are up to date, so nothing would be fetched
    # for them (a pyproject.toml newer than the virtualenv asks for a fresh pip install)
    check = subprocess.run(["make", "--question", *PREPARED], cwd=REPO, capture_output=True)
    if check.returncode != 0:
        return "this checkout is not prepared: run `make prepare` (with network) first"
    return None


@pytest.mark.skipif(unprepared() is not None, reason=str(unprepared()))
def test_make_docs_builds_without_a_network() -> None:
    devices = subprocess.run(["unshare", "-n", "cat", "/proc/net/dev"], check=True,
                             capture_output=True, text=True).stdout.splitlines()[2:]
    assert [d.split(":")[0].strip() for d in devices] == ["lo"], devices
    build = subprocess.run(["unshare", "-n", "make", "docs"], cwd=REPO, capture_output=True,
                           text=True, timeout=900, env=dict(os.environ, MAKEFLAGS=""))
    assert build.returncode == 0, \
        f"make docs failed without a network:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    assert (REPO / "site" / "index.html").exists()
    assert (REPO / "site" / "assets" / "vendor" / "mermaid.min.js").exists()
