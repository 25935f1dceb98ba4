"""whalebones-runc under the real containerd: does containerd's runc shim accept it?

A private containerd (its own root, state and socket in a temp dir) with a busybox
image imported; `ctr run --runc-binary` makes the real containerd-shim-runc-v2 call
our runc instead of the real one, with the flags go-runc sends. A small wrapper
records each call's argv, so the test also shows what the shim sent.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines import REPO
from tests.stages.stage3.conftest import RUNC, processes_mentioning

NAMESPACE = "wbrunc-test"
IMAGE = "docker.io/library/busybox:latest"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="containers need root"),
    pytest.mark.skipif(not (shutil.which("containerd") and shutil.which("ctr")),
                       reason="containerd and ctr are not installed"),
]


class Ctr:
    def __init__(self, address: str, runtime: str, argv_log: Path) -> None:
        self.address = address
        self.runtime = runtime
        self.argv_log = argv_log

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        p = subprocess.run(["ctr", "-a", self.address, "-n", NAMESPACE, *args],
                           capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p

    def calls(self) -> list[str]:
        """The argv of every runtime call so far, without the global flags."""
        lines = self.argv_log.read_text().splitlines() if self.argv_log.exists() else []
        return [line.split(" --log-format json ", 1)[-1] for line in lines]


# Dirs the shim or runc make outside our temp dir, and leave (so does the real runc).
def _outside_dirs() -> list[str]:
    return [f"/run/containerd/runc/{NAMESPACE}",
            *glob.glob(f"/sys/fs/cgroup/*/{NAMESPACE}"), f"/sys/fs/cgroup/{NAMESPACE}"]


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctr]:
    d = tmp_path_factory.mktemp("containerd")
    address = str(d / "containerd.sock")
    (d / "config.toml").write_text(f"""version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{address}"
[ttrpc]
  address = "{address}.ttrpc"
""")
    argv_log = d / "argv.log"
    wrapper = d / "runc"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {argv_log}\nexec {RUNC} "$@"\n')
    wrapper.chmod(0o755)
    existed = {path for path in _outside_dirs() if os.path.exists(path)}
    with open(d / "containerd.log", "w") as log:
        daemon = subprocess.Popen(["containerd", "--config", str(d / "config.toml")],
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(address):
            assert daemon.poll() is None, (d / "containerd.log").read_text()
            assert time.monotonic() < deadline, "containerd did not start"
            time.sleep(0.02)
        c = Ctr(address, str(wrapper), argv_log)
        subprocess.run([sys.executable, "-m", "shared.images.busybox", "--root",
                        str(d / "store"), "--save", str(d / "busybox.tar")],
                       cwd=REPO, check=True, capture_output=True)
        c("images", "import", "--base-name", "docker.io/library/busybox",
          str(d / "busybox.tar"))
        yield c
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
        for path in _outside_dirs():
            if path not in existed and os.path.exists(path):
                os.rmdir(path)  # empty by now, or something of ours leaked
        assert not processes_mentioning(address)
        with open("/proc/self/mountinfo") as f:
            assert str(d) not in f.read()
        shutil.rmtree(d / "root")
        shutil.rmtree(d / "state", ignore_errors=True)


def test_ctr_run_prints_and_passes_the_exit_code(ctr: Ctr) -> None:
    p = ctr("run", "--rm", "--runc-binary", ctr.runtime, IMAGE, "wbrunc1",
            "sh", "-c", "echo hi; exit 3", check=False)
    assert (p.returncode, p.stdout) == (3, "hi\n"), p.stderr
    calls = [c for c in ctr.calls() if c.endswith(" wbrunc1")]
    create = f"/state/io.containerd.runtime.v2.task/{NAMESPACE}/wbrunc1"
    assert calls[0].startswith("create --bundle ") and create in calls[0]
    assert "--pid-file " in calls[0]
    assert calls[1:3] == ["start wbrunc1", "delete wbrunc1"]


def test_ctr_run_with_a_terminal(ctr: Ctr) -> None:
    command = f"ctr -a {ctr.address} -n {NAMESPACE} run --rm -t --runc-binary " \
              f"{ctr.runtime} {IMAGE} wbrunc2 tty"
    p = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stdout
    assert "/dev/pts/0" in p.stdout
    assert any("--console-socket " in c for c in ctr.calls() if c.endswith(" wbrunc2"))


def test_ctr_task_exec_ps_pause_kill(ctr: Ctr) -> None:
    ctr("run", "-d", "--runc-binary", ctr.runtime, IMAGE, "wbrunc3", "sleep", "1000")
    try:
        # Inside, pid 1 is the container's init: the exec joined its pid namespace.
        p = ctr("task", "exec", "--exec-id", "e1", "wbrunc3",
                "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; exit 4", check=False)
        assert (p.returncode, p.stdout) == (4, "sleep 1000 "), p.stderr
        pids = ctr("task", "ps", "wbrunc3").stdout.split()[2::2]
        assert len(pids) == 1 and pids[0].isdigit()
        ctr("task", "pause", "wbrunc3")
        assert "PAUSED" in ctr("task", "ls").stdout
        ctr("task", "resume", "wbrunc3")
        assert "RUNNING" in ctr("task", "ls").stdout
    finally:
        ctr("task", "kill", "-s", "KILL", "wbrunc3", check=False)
        deadline = time.monotonic() + 10
        while "RUNNING" in ctr("task", "ls").stdout and time.monotonic() < deadline:
            time.sleep(0.05)
        ctr("task", "rm", "wbrunc3", check=False)
        ctr("containers", "rm", "wbrunc3", check=False)
    verbs = [c.split()[0] for c in ctr.calls() if c.endswith(" wbrunc3") or " wbrunc3 " in c]
    assert verbs[:3] == ["create", "start", "exec"]
    assert {"ps", "pause", "resume", "kill", "delete"} <= set(verbs)
    assert any(c.startswith("exec --process ") and " --detach " in c for c in ctr.calls())


def test_a_failed_create_reaches_ctr_through_the_log(ctr: Ctr) -> None:
    """The shim reads our JSON error line from <bundle>/log.json and passes it up."""
    p = ctr("run", "--rm", "--runc-binary", ctr.runtime, IMAGE, "wbrunc4", "nosuchprogram",
            check=False)
    ctr("containers", "rm", "wbrunc4", check=False)
    assert p.returncode != 0
    assert "nosuchprogram" in p.stderr and "executable file not found" in p.stderr, p.stderr
