"""Fixtures for the stage 3 runc tests: a busybox rootfs, bundles, and the CLI.

Real containers, as root. Every test gets its own --root; at the end nothing of its
containers may be left: no state directory, no cgroup, no process, no mount.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.libc import set_child_subreaper
from tests.engines import REPO

RUNC = str(Path(REPO) / "bin" / "whalebones-runc")
REAL_RUNC = "/usr/sbin/runc"


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A minimal busybox root: the binary, a symlink per applet, passwd, the mount points."""
    root = tmp_path_factory.mktemp("busybox") / "rootfs"
    (root / "bin").mkdir(parents=True)
    root.chmod(0o755)
    subprocess.run(["cp", "/bin/busybox", str(root / "bin" / "busybox")], check=True)
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    for d in ("proc", "sys", "dev", "tmp", "etc", "root"):
        (root / d).mkdir(exist_ok=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    return root


class Runc:
    """whalebones-runc (or real runc) with this test's --root, and what it made."""

    def __init__(self, root: Path, binary: str = RUNC) -> None:
        self.root = root
        self.binary = binary
        self.ids: list[str] = []
        self.pids: list[int] = []  # processes re-parented to us, to reap

    def __call__(self, *args: str, check: bool = True,
                 input: str | None = None) -> subprocess.CompletedProcess:
        """Run it; its stdout and stderr come back as text. They go through files, not
        pipes: a container made by create or run --detach inherits them and lives on,
        and a pipe would not reach EOF before it exits."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.run([self.binary, "--root", str(self.root), *args], stdout=out,
                               stderr=err, input=input.encode() if input is not None else None,
                               stdin=subprocess.DEVNULL if input is None else None, timeout=30)
            out.seek(0)
            err.seek(0)
            p.stdout, p.stderr = out.read().decode(), err.read().decode()
        if check and p.returncode != 0:
            raise AssertionError(f"runc {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p

    def state(self, cid: str) -> dict:
        return json.loads(self("state", cid).stdout)

    def reap(self, pid: int) -> int:
        """Wait for a process that was handed to us (we are a subreaper); its exit code."""
        _, status = os.waitpid(pid, 0)
        if pid in self.pids:
            self.pids.remove(pid)
        return os.waitstatus_to_exitcode(status)


@pytest.fixture
def runc(tmp_path: Path) -> Iterator[Runc]:
    # Containers made by `create` outlive the runc that made them; being a subreaper
    # makes their init our child, so that we can wait for it (and must).
    set_child_subreaper()
    r = Runc(tmp_path / "root")
    yield r
    for cid in r.ids:
        r("delete", "--force", cid, check=False)
    for pid in r.pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    reap_dead_children()
    assert_nothing_left(r, tmp_path)


def reap_dead_children() -> None:
    """Containers killed without the test knowing their pid (a failed create) were
    still handed to us: wait for those that are dead, and only those."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        if int(ppid) == os.getpid() and state == "Z":
            os.waitpid(int(pid), 0)


def assert_nothing_left(r: Runc, tmp_path: Path) -> None:
    assert not (r.root.exists() and os.listdir(r.root)), f"state left in {r.root}"
    cgroups = [d for cid in r.ids for d in glob.glob(f"/sys/fs/cgroup/*/whalebones/{cid}")
               + glob.glob(f"/sys/fs/cgroup/whalebones/{cid}")]
    assert not cgroups, f"cgroups left: {cgroups}"
    with open("/proc/self/mountinfo") as f:
        assert str(tmp_path) not in f.read()
    assert not processes_mentioning(str(tmp_path))


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain `text` (a runc left behind)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and int(pid) != os.getpid():
            found.append(f"{pid}: {cmdline}")
    return found


@pytest.fixture
def make_bundle(tmp_path: Path, rootfs: Path, runc: Runc):  # type: ignore[no-untyped-def]
    """make_bundle(args, generator=RUNC|REAL_RUNC, terminal=False, **process) -> (id, dir).

    config.json is written by `<generator> spec`, as a user would, then edited; the
    rootfs is a hard-linked copy at <bundle>/rootfs, so root.path stays relative.
    """
    counter = iter(range(1000))

    def make(args: list[str], generator: str = RUNC, terminal: bool = False,
             **process: object) -> tuple[str, Path]:
        cid = f"wbrunc{os.getpid()}x{next(counter)}"
        bundle = tmp_path / cid
        bundle.mkdir()
        subprocess.run(["cp", "-al", str(rootfs), str(bundle / "rootfs")], check=True)
        subprocess.run([generator, "spec", "--bundle", str(bundle)], check=True)
        config = json.loads((bundle / "config.json").read_text())
        config["process"].update(args=args, terminal=terminal, **process)
        config["hostname"] = cid[-12:]
        (bundle / "config.json").write_text(json.dumps(config, indent=1))
        runc.ids.append(cid)
        return cid, bundle

    return make
