"""The conformance harness: the runtime under test, bundles, and cleanup that checks.

    RUNTIME=whalebones-runc (default) | runc | crun | /path/to/binary

Fixtures:
  rt        a Runtime: the binary with this test's own --root; create/start/state/
            kill/delete with output captured; at teardown every container it made is
            deleted (--force) and nothing may be left (state, cgroup, mount, process).
  bundle    bundle(args) -> a Bundle: a hard-linked busybox rootfs and a config like
            `runc spec`'s (spec_config), which the test edits before rt.create().

A created container's init outlives the runtime call that made it; the test process
is a child subreaper, so that init is re-parented to it and the test waits for it.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shared.libc import set_child_subreaper
from tests.engines import REPO
from tests.stages.stage3.conftest import (  # noqa: F401 (rootfs: a fixture)
    processes_mentioning,
    reap_dead_children,
    rootfs,
)

# The spec version the bundles claim. crun 1.8.1 refuses a version newer than it
# knows ("unknown version specified"), so the bundles say 1.0.2, which all three
# runtimes accept; the checks are those of v1.2's text, which 1.0.2's fields share.
OCI_VERSION = "1.0.2"
# Where each container's cgroup goes (linux.cgroupsPath): one parent for the suite, so
# that a leak is easy to find and the parent is removed at the end.
CGROUP_PARENT = "wbconformance"
# In the runtime's environment, to show it does not reach a hook's (hooks get `env`).
RUNTIME_ENV = {"WBCT_RUNTIME_ENV": "leaked"}
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def runtime_choice() -> tuple[str, str]:
    """(name, binary) from $RUNTIME. The name is what xfail_on matches."""
    ours = REPO / "bin" / "whalebones-runc"
    wanted = os.environ.get("RUNTIME") or str(ours)
    binary = str(ours) if wanted == ours.name else shutil.which(wanted) or wanted
    name = os.path.basename(binary)
    return name, binary


RUNTIME_NAME, RUNTIME_BINARY = runtime_choice()


def xfail_on(runtime: str, reason: str, strict: bool = True) -> pytest.MarkDecorator:
    """This check fails on `runtime` (runc, crun) for `reason`, and only there. Strict:
    should that runtime start passing, the mark has to go (not strict for a race that
    runtime loses only sometimes)."""
    return pytest.mark.xfail(RUNTIME_NAME == runtime, reason=f"{runtime}: {reason}",
                             strict=strict)


def crun_wrapper(directory: Path) -> Path:
    """crun 1.8.1 on this hybrid host: it sees /sys/fs/cgroup/unified (an empty cgroup2
    mount) and takes the host for cgroup v2, then fails on controllers cgroup2 lists
    but cannot use. Each call runs in a mount namespace of its own where that mount is
    gone (see /work/shared/CONTRACTS.md). Its mounts are slaves of the host's: the
    umount does not reach the host, and the host's mounts still reach crun (as the
    rootfs propagation checks need). That namespace is crun's "runtime namespace": it
    writes its id next to the wrapper, for the hook checks."""
    script = directory / "crun"
    script.write_text(
        "#!/bin/sh\n"
        "exec unshare -m --propagation slave sh -c '"
        "umount /sys/fs/cgroup/unified 2>/dev/null; "
        "readlink /proc/self/ns/mnt > \"$0.mntns\"; "
        f"exec {RUNTIME_BINARY} \"$@\"' \"{script}\" \"$@\"\n")
    script.chmod(0o755)
    return script


def spec_config(cid: str, args: list[str]) -> dict[str, Any]:
    """The base config.json: what `runc spec` writes (runc 1.1's libcontainer/specconv
    Example()), with the process not on a terminal, the root writable, and the
    cgroup under CGROUP_PARENT. Ambient capabilities are also inheritable: the
    kernel refuses to raise an ambient one that is not (runc only warns)."""
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": [PATH_ENV, "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(caps) for k in
                             ("bounding", "effective", "permitted", "inheritable", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "conformance",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                         "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "cgroupsPath": f"/{CGROUP_PARENT}/{cid}",
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                            "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


@dataclass
class Bundle:
    """A bundle directory; `config` is written to config.json by Runtime.create."""

    cid: str
    path: Path
    config: dict[str, Any]

    @property
    def rootfs(self) -> Path:
        return self.path / "rootfs"

    @property
    def linux(self) -> dict[str, Any]:
        return self.config["linux"]

    def namespaces(self, *types: str) -> None:
        """Only these namespaces, all new."""
        self.linux["namespaces"] = [{"type": t} for t in types]

    def write(self) -> None:
        (self.path / "config.json").write_text(json.dumps(self.config, indent=1))

    def output(self) -> str:
        """What the container wrote to stdout: it inherited create's."""
        return (self.path / "create.out").read_text()


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Runtime:
    """The runtime under test with this test's own state root."""

    argv0: str
    root: Path
    ids: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)  # inits handed to us, to reap
    host_mounts: list[Path] = field(default_factory=list)  # a test's, to unmount

    def __call__(self, *args: str, check: bool = True, timeout: float = 30,
                 stdout: Path | None = None, stderr: Path | None = None) -> Result:
        """Run one verb. Output goes through files, not pipes: a container made by
        create inherits them and lives on, and a pipe would not reach EOF."""
        with tempfile.TemporaryFile() as out_tmp, tempfile.TemporaryFile() as err_tmp:
            out = open(stdout, "w+b") if stdout else out_tmp
            err = open(stderr, "w+b") if stderr else err_tmp
            try:
                p = subprocess.run([self.argv0, "--root", str(self.root), *args],
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   timeout=timeout, env=os.environ | RUNTIME_ENV)
                out.seek(0)
                err.seek(0)
                result = Result(p.returncode, out.read().decode(errors="replace"),
                                err.read().decode(errors="replace"))
            finally:
                if stdout:
                    out.close()
                if stderr:
                    err.close()
        if check and result.returncode != 0:
            raise AssertionError(f"{RUNTIME_NAME} {' '.join(args)} exited "
                                 f"{result.returncode}: {result.stderr}")
        return result

    def runtime_mnt_ns(self) -> str:
        """The mount namespace the last call ran in (the spec's runtime namespace)."""
        recorded = Path(f"{self.argv0}.mntns")
        if recorded.exists():  # the crun wrapper's own namespace
            return recorded.read_text().strip()
        return os.readlink("/proc/self/ns/mnt")

    def create(self, b: Bundle, check: bool = True) -> Result:
        """`create ID --bundle B --pid-file F`; the container's stdout and stderr are
        create's (B/create.out, B/create.err). Its init pid is remembered, to reap."""
        b.write()
        if b.cid not in self.ids:
            self.ids.append(b.cid)
        pid_file = b.path / "init.pid"
        r = self("create", "--bundle", str(b.path), "--pid-file", str(pid_file), b.cid,
                 check=check, stdout=b.path / "create.out", stderr=b.path / "create.err")
        if pid_file.exists() and pid_file.read_text().isdigit():
            self.pids.append(int(pid_file.read_text()))
        return r

    def pid(self, b: Bundle) -> int:
        return int((b.path / "init.pid").read_text())

    def state(self, cid: str) -> dict[str, Any]:
        return json.loads(self("state", cid).stdout)

    def wait(self, pid: int, timeout: float = 20) -> int:
        """Wait for an init handed to us; its exit code (negative: killed by a signal)."""
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self.pids.remove(pid)
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                raise AssertionError(f"pid {pid} still runs after {timeout} s")
            time.sleep(0.01)

    def run(self, b: Bundle) -> tuple[int, str]:
        """create, start, wait for the exit: (exit code, stdout)."""
        self.create(b)
        self("start", b.cid)
        code = self.wait(self.pid(b))
        return code, b.output()

    def mount_on_host(self, source: Path | str, target: Path, *options: str) -> None:
        """mount(8) on the host, undone at cleanup (after the containers are gone)."""
        subprocess.run(["mount", *options, str(source), str(target)], check=True)
        self.host_mounts.append(target)

    def cleanup(self) -> None:
        for cid in self.ids:
            self("delete", "--force", cid, check=False)
        for target in reversed(self.host_mounts):
            subprocess.run(["umount", "-l", str(target)], check=False)
        for pid in list(self.pids):
            try:
                self.wait(pid, timeout=10)
            except ChildProcessError:
                self.pids.remove(pid)
        reap_dead_children()


def run_ok(rt: Runtime, b: Bundle) -> str:
    code, out = rt.run(b)
    assert code == 0, (out, (b.path / "create.err").read_text())
    return out


def refused(rt: Runtime, b: Bundle) -> None:
    """runtime.md Create: "If the runtime cannot apply a property as specified in the
    configuration, it MUST generate an error and a new container MUST NOT be created"."""
    assert rt.create(b, check=False).returncode != 0
    assert rt("state", b.cid, check=False).returncode != 0


def container_cgroups(cid: str) -> list[str]:
    return (glob.glob(f"/sys/fs/cgroup/*/{CGROUP_PARENT}/{cid}")
            + glob.glob(f"/sys/fs/cgroup/{CGROUP_PARENT}/{cid}"))


@pytest.fixture(scope="session")
def runtime_argv0(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not os.path.exists(RUNTIME_BINARY):
        pytest.skip(f"no runtime {RUNTIME_BINARY}")
    if RUNTIME_NAME == "crun":
        yield str(crun_wrapper(tmp_path_factory.mktemp("crun")))
    else:
        yield RUNTIME_BINARY
    # Runtimes make the parents of a cgroupsPath and leave them: the suite's own.
    for parent in glob.glob(f"/sys/fs/cgroup/*/{CGROUP_PARENT}") + \
            glob.glob(f"/sys/fs/cgroup/{CGROUP_PARENT}"):
        try:
            os.rmdir(parent)
        except OSError:
            pass


@pytest.fixture
def rt(tmp_path: Path, runtime_argv0: str) -> Iterator[Runtime]:
    if os.geteuid() != 0:
        pytest.skip("containers need root")
    set_child_subreaper()
    r = Runtime(runtime_argv0, tmp_path / "state")
    try:
        yield r
        r.cleanup()
    finally:
        # Only for the suite's own containers: left on, the test process would adopt
        # every orphan of the tests that run after it (LXC's monitors, shims), and
        # their zombies would be counted as those tests' leaks.
        set_child_subreaper(False)
    leaks = [cid for cid in r.ids if (r.root / cid).exists()]
    assert not leaks, f"state left for {leaks}"
    cgroups = [d for cid in r.ids for d in container_cgroups(cid)]
    assert not cgroups, f"cgroups left: {cgroups}"
    with open("/proc/self/mountinfo") as f:
        assert str(tmp_path) not in f.read(), "mounts left"
    assert not processes_mentioning(str(tmp_path)), "processes left"


@pytest.fixture
def bundle(tmp_path: Path, rootfs: Path, rt: Runtime):  # type: ignore[no-untyped-def]  # noqa: F811
    """bundle(args) -> Bundle with a unique container id."""
    counter = iter(range(1000))

    def make(args: list[str]) -> Bundle:
        cid = f"wbct{os.getpid()}-{next(counter)}"
        path = tmp_path / cid
        path.mkdir()
        subprocess.run(["cp", "-al", str(rootfs), str(path / "rootfs")], check=True)
        return Bundle(cid, path, spec_config(cid, args))

    return make
