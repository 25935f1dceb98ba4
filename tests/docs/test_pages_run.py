"""Every page's promised commands, run for real: the pages can't drift from the code.

"Start here" and each stage page's "Run it, break it" hold console blocks marked for
this test (tests/docs/pagerun.py says how). Each page's blocks run in order, in one
bash at the repository's root, as root, against the default socket and state, exactly
as a learner types them; each command's output must be what the page shows. The pages
start their stage with `make stage-N`, so this stops a stage you had running.
Afterwards no container the page named is left, and the stage is stopped.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.docs import pagerun

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
CGROUP = "v2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "v1"


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "wb-run" in p.read_text())


def runnable(page: Path) -> list[pagerun.Step]:
    chosen = []
    for block in pagerun.blocks(page.read_text()):
        if block.options.get("cgroup", CGROUP) == CGROUP:
            chosen += block.steps
    return chosen


def test_the_pages_mark_blocks_to_run() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in pages()}
    assert {"start-here.md", "stages/stage1.md", "stages/stage2.md", "stages/stage3.md",
            "stages/stage4.md"} <= names


@pytest.mark.skipif(os.geteuid() != 0, reason="the pages' commands run as root")
@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_a_page_does_what_it_says(page: Path) -> None:
    steps = runnable(page)
    assert steps, f"{page} marks no block for a cgroup {CGROUP} host"
    names = {m for s in steps for m in re.findall(r"--name[ =](\S+)", s.command)}
    # A learner's shell: no daemon address of a test's, and not inside a make (under
    # `make test`, MAKELEVEL would have the page's `make` print "Entering directory").
    env = {k: v for k, v in os.environ.items() if k not in (
        "WHALEBONES_HOST", "DOCKER_HOST", "MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")}
    try:
        # The script is a file and stdin is empty, as at a terminal where nobody types:
        # a command that reads stdin must not swallow the commands after it.
        with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
            f.write(pagerun.script(steps))
            f.flush()
            done = subprocess.run(["bash", f.name], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=900)
        printed = pagerun.outputs(done.stdout, len(steps))
        for step, actual in zip(steps, printed, strict=True):
            assert pagerun.matches(step.expected, actual), (
                f"{page.relative_to(REPO)}: `{step.command}` printed\n"
                + "\n".join(actual) + "\nbut the page shows\n" + "\n".join(step.expected))
        if names:
            left = subprocess.run([str(REPO / ".venv/bin/whalebones"), "ps", "-a"],
                                  capture_output=True, text=True, env=env)
            assert not names & set(left.stdout.split()), "the page left containers"
    finally:
        subprocess.run([str(REPO / "scripts" / "stage"), "stop"], capture_output=True)
