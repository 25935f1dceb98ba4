"""Fixtures for stage 2's libcontainer tests: a busybox rootfs, containers, no leaks.

Real containers, as root, on this machine. One busybox root filesystem is shared by
the whole session; containers run it read-only with a tmpfs on /tmp, and a test that
must write to / gets an overlay of its own. After every test nothing of ours may be
left: no process, no mount, no cgroup directory, no state directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.libc import set_child_subreaper
from shared.oci.defaults import default_spec
from stages.stage2_libcontainer.libcontainer import Container, cgroups

BUSYBOX = shutil.which("busybox") or "/usr/bin/busybox"
CGROUP_VERSION = 2 if cgroups.is_unified() else 1
# Container ids (and so cgroup paths) of this session: wbt<pid>-<n>.
PREFIX = f"wbt{os.getpid()}-"


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A minimal busybox root: `busybox --install -s` links every applet to the binary's
    absolute path, so the binary goes at that same path inside; passwd, group, and the
    directories the spec's mounts land on."""
    root = tmp_path_factory.mktemp("busybox") / "rootfs"
    (root / "bin").mkdir(parents=True)
    root.chmod(0o755)  # pytest makes 0700 dirs: a non-root user could not even see /bin
    inside = root / BUSYBOX.lstrip("/")
    inside.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, inside)
    subprocess.run([BUSYBOX, "--install", "-s", str(root / "bin")], check=True)
    if not (root / "bin" / "busybox").exists():
        (root / "bin" / "busybox").symlink_to(BUSYBOX)
    for d in ("proc", "sys", "dev", "tmp", "etc", "root"):
        (root / d).mkdir(exist_ok=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                         "nobody:x:65534:65534:nobody:/:/bin/false\n")
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    return root


@pytest.fixture
def overlay(rootfs: Path, tmp_path: Path) -> Iterator[Path]:
    """A writable root of this test's own: an overlay over the shared busybox root."""
    upper, work, merged = tmp_path / "upper", tmp_path / "work", tmp_path / "merged"
    for d in (upper, work, merged):
        d.mkdir()
    merged.chmod(0o755)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={rootfs},upperdir={upper},workdir={work}", str(merged)],
                   check=True)
    yield merged
    subprocess.run(["umount", str(merged)], check=True)


def _our_mounts(*paths: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line for line in f
                if "whalebones" in line or any(str(p) in line for p in paths)]


def _our_cgroups() -> list[str]:
    found = []
    for _, directory in cgroups.manager("/whalebones").hierarchies():
        if os.path.isdir(directory):
            found += [os.path.join(directory, d) for d in os.listdir(directory)
                      if d.startswith(PREFIX)]
    return found


def _processes_in_our_cgroups() -> list[int]:
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                if f"/whalebones/{PREFIX}" in f.read():
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


@pytest.fixture
def no_leaks(tmp_path: Path, rootfs: Path) -> Iterator[None]:
    """After the test: no process, mount, cgroup directory or state dir of ours remains,
    and every child of ours was reaped (a zombie is a process left behind too)."""
    before = set(_our_mounts(tmp_path, rootfs))
    yield
    problems = []
    if pids := _processes_in_our_cgroups():
        problems.append(f"processes left in our cgroups: {pids}")
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid:
            problems.append(f"a child process was left unreaped: {pid}")
    except ChildProcessError:
        pass
    if mounts := set(_our_mounts(tmp_path, rootfs)) - before:
        problems.append(f"mounts left: {sorted(mounts)}")
    if dirs := _our_cgroups():
        problems.append(f"cgroups left: {dirs}")
    if states := [p for p in tmp_path.glob(f"{PREFIX}*") if p.is_dir()]:
        problems.append(f"state directories left: {states}")
    assert not problems, problems


class Maker:
    """make(args, **process) -> (id, spec, state_dir) for a container over the shared
    read-only rootfs (with a tmpfs on /tmp); remembers containers to destroy."""

    def __init__(self, rootfs: Path, tmp_path: Path) -> None:
        self.rootfs = rootfs
        self.tmp_path = tmp_path
        self.made: list[Container] = []
        self.count = 0

    def __call__(self, args: list[str], **process: object) -> tuple[str, dict, str]:
        self.count += 1
        cid = f"{PREFIX}{self.count}"
        spec = default_spec()
        spec["root"] = {"path": str(self.rootfs), "readonly": True}
        spec["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                               "options": ["nosuid", "nodev"]})
        spec["hostname"] = f"host-{self.count}"
        spec["process"]["args"] = args
        spec["process"].update(process)
        spec["linux"]["cgroupsPath"] = f"/whalebones/{cid}"
        return cid, spec, str(self.tmp_path / cid)

    def create(self, cid: str, spec: dict, state: str, *args, **kwargs) -> Container:  # type: ignore[no-untyped-def]
        c = Container.create(cid, spec, state, *args, **kwargs)
        self.made.append(c)
        return c

    def cleanup(self) -> None:
        for c in self.made:
            c.destroy()
            try:
                os.waitpid(c.pid, 0)  # we are the subreaper: init is our child
            except ChildProcessError:
                pass  # the test reaped it already


@pytest.fixture
def make(no_leaks: None, rootfs: Path, tmp_path: Path) -> Iterator[Maker]:
    set_child_subreaper()  # the test process reaps the containers it makes
    maker = Maker(rootfs, tmp_path)
    yield maker
    maker.cleanup()


@pytest.fixture(params=[CGROUP_VERSION], ids=[f"cgroup-v{CGROUP_VERSION}"])
def cgroup_version(request: pytest.FixtureRequest) -> int:
    """The cgroup version a test exercises, in its name ([cgroup-v1]) and output."""
    kind = "pure v2" if request.param == 2 else "v1 hierarchies (hybrid or v1 host)"
    print(f"cgroup v{request.param}: {kind}")
    return request.param
