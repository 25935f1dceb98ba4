"""Trace mode (shared/trace.py): the path of one `run` through every component, as each
component wrote it down, for each era. What the docs draw, checked against the truth."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from shared import trace
from tests.engines import REPO, start_engine

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")

# Per stage, (component, kind, what) events that must appear, in this order.
CHAINS = {
    "stage1": [
        ("client", "call", "POST /containers/create"),
        ("daemon", "serve", "POST /v1.45/containers/create"),
        ("daemon", "call", "lxc-start (until the init is set up)"),
        ("daemon", "call", "release the start-host hook"),
    ],
    "stage2": [
        ("client", "call", "POST /containers/create"),
        ("daemon", "call", "Container.create"),
        ("init", "step", "pivot_root: the image's rootfs is now /"),
        ("init", "step", "created: waiting on exec.fifo for `start`"),
        ("daemon", "call", "Container.start"),
        ("init", "step", "started: execve /bin/sh"),
    ],
    "stage3": [
        ("daemon", "call", "Tasks.Create"),
        ("containerd", "serve", "Tasks.Create"),
        ("containerd", "call", "runc create"),
        ("runc", "serve", "create"),
        ("init", "step", "pivot_root: the image's rootfs is now /"),
        ("containerd", "call", "runc start"),
        ("init", "step", "started: execve /bin/sh"),
        ("containerd", "call", "runc delete"),
    ],
    "stage4": [
        ("daemon", "call", "Tasks.Create"),
        ("containerd", "call", "start shim"),
        ("containerd", "call", "create"),
        ("shim", "serve", "create"),
        ("shim", "call", "runc create"),
        ("runc", "serve", "create"),
        ("init", "step", "pivot_root: the image's rootfs is now /"),
        ("shim", "call", "runc start"),
        ("init", "step", "started: execve /bin/sh"),
        ("shim", "call", "runc delete"),
    ],
}


@pytest.mark.parametrize("stage", list(CHAINS))
def test_a_run_is_traced_through_every_component(stage: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "trace.jsonl"
    monkeypatch.setenv("WHALEBONES_TRACE", str(path))
    with start_engine(stage) as engine:
        path.write_text("")  # the request only, not the engine's start-up
        env = {**os.environ, "WHALEBONES_HOST": engine.host}
        result = subprocess.run([str(REPO / "run"), "busybox", "sh", "-c", "exit 3"],
                                env=env, capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        assert result.returncode == 3, result.stderr
    records = trace.load(str(path))
    events = [(r["component"], r["kind"], r["what"]) for r in records]
    position = 0
    for wanted in CHAINS[stage]:
        assert wanted in events[position:], (
            f"{wanted} missing (after {events[position - 1] if position else 'start'}):\n"
            + trace.timeline(records))
        position = events.index(wanted, position) + 1
    assert all(r["ms"] >= 0 and r["pid"] > 0 for r in records)
    assert "->" in trace.timeline(records)


def test_without_the_variable_nothing_is_written(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "WHALEBONES_TRACE"}
    code = "from shared import trace\nwith trace.span('x', 'call', 'y'): pass\ntrace.step('x', 'z')"
    subprocess.run(["python3", "-c", code], env={**env, "PYTHONPATH": str(REPO)},
                   cwd=tmp_path, check=True)
    assert list(tmp_path.iterdir()) == []
