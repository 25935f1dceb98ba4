"""The order of init's steps, against a FAKE kernel that records each call.

Unit tests, no root: container_init and exec_process run here, in the test's own
process, handed a RecordingKernel (a fake: nothing is mounted, no uid changes, no
execve happens) instead of kernel.LINUX. What they prove is the order in which the
real code asks for things: mounts before pivot_root, the hostname after it, the
bounding set dropped before setuid, the other capability sets after it, no_new_privs
after those, the seccomp filter after no_new_privs (or, without it, before the
capabilities go), "ready" before the wait for `start`, execve last. That the kernel then
does what is asked is tests/stages/stage2's business (real containers, as root).

Plain files and directories the rootfs code makes (mount points, /dev's symlinks)
are made for real, in a temporary directory standing in for the rootfs.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.oci import seccomp
from shared.oci.defaults import DEFAULT_CAPABILITIES, default_spec
from stages.stage2_libcontainer.libcontainer import init, specconv, syscalls
from stages.stage2_libcontainer.libcontainer.configs import Config
from stages.stage2_libcontainer.libcontainer.errors import os_error
from stages.stage2_libcontainer.libcontainer.kernel import Kernel

Call = tuple[str, tuple]


class RecordingKernel(Kernel):
    """FAKE: every method of Kernel records (name, args) instead of calling the kernel
    (set up below, so that none can be forgotten). `fail` makes one of them raise."""

    def __init__(self, fail: str = "") -> None:
        self.calls: list[Call] = []
        self.fail = fail


def _recorder(name: str) -> Callable[..., None]:
    def record(self: RecordingKernel, *args: object, **kwargs: object) -> None:
        if name == "mount" and str(args[1]).startswith("/proc/self/fd/"):
            # rootfs.mount_point: a mount point is mounted on through its descriptor;
            # recorded as the path that descriptor was opened on.
            args = (args[0], os.readlink(str(args[1])), *args[2:])
        self.calls.append((name, args + tuple(kwargs.values())))
        if name == self.fail:
            raise os_error(f"{name} (fake)", errno.EPERM)
    return record


for _name in [n for n, v in vars(Kernel).items() if callable(v) and not n.startswith("_")]:
    setattr(RecordingKernel, _name, _recorder(_name))


class RecordingSync:
    """FAKE sync socket: what init tells its caller goes into the same list."""

    def __init__(self, calls: list[Call]) -> None:
        self.calls = calls

    def send(self, **message: object) -> None:
        self.calls.append(("sync.send", (message,)))


def container_config(rootfs: Path, seen: Path) -> Config:
    """`seen`: where the paths to mask or make read-only are. After pivot_root they
    would be the container's /proc/...; with the fake, the root is still the host's."""
    spec = default_spec()
    spec["root"] = {"path": str(rootfs), "readonly": True}
    spec["hostname"] = "web"
    spec["process"].update(args=["sh", "-c", "true"], env=["PATH=/usr/bin:/bin"], cwd="/tmp",
                           user={"uid": 1000, "gid": 1000, "additionalGids": [10]},
                           rlimits=[{"type": "RLIMIT_NOFILE", "soft": 99, "hard": 100}],
                           oomScoreAdj=500, noNewPrivileges=True)
    spec["linux"]["sysctl"] = {"kernel.shm_rmid_forced": "1"}
    for name in ("ro", "masked-dir"):
        (seen / name).mkdir()
    (seen / "masked-file").touch()
    spec["linux"]["readonlyPaths"] = [str(seen / "ro")]
    spec["linux"]["maskedPaths"] = [str(seen / "masked-dir"), str(seen / "masked-file")]
    spec["linux"]["seccomp"] = seccomp.to_oci(seccomp.load_default(), DEFAULT_CAPABILITIES)
    return specconv.to_config(spec)


def index(calls: list[Call], name: str, *args: object, last: bool = False) -> int:
    """Where the first (or last) call `name` whose arguments start with `args` is."""
    found = [i for i, (n, a) in enumerate(calls) if n == name and a[:len(args)] == args]
    assert found, f"no {name}{args} in {[n for n, _ in calls]}"
    return found[-1] if last else found[0]


def prctl_indexes(calls: list[Call], option: int) -> list[int]:
    return [i for i, (n, a) in enumerate(calls) if n == "prctl" and a[0] == option]


@pytest.fixture
def fifo(tmp_path: Path) -> tuple[str, int]:
    """exec.fifo, with its read end already open (as `start` opens it) so that init's
    open for writing does not block."""
    path = str(tmp_path / "exec.fifo")
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    yield path, reader
    os.close(reader)


def run_init(tmp_path: Path, fifo: tuple[str, int], kernel: RecordingKernel,
             no_new_privileges: bool = True) -> list[Call]:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    config = container_config(rootfs, tmp_path)
    config.process.no_new_privileges = no_new_privileges
    # exec.fifo's directory, as Container.create hands it to init (who closes it)
    fifo_dir = os.open(os.path.dirname(fifo[0]), os.O_PATH | os.O_DIRECTORY)
    init.container_init(kernel, config, RecordingSync(kernel.calls),  # type: ignore[arg-type]
                        None, None, fifo_dir)
    return kernel.calls


def test_init_steps_come_in_the_kernels_order(tmp_path: Path, fifo: tuple[str, int]) -> None:
    calls = run_init(tmp_path, fifo, RecordingKernel())
    rootfs = str(tmp_path / "rootfs")
    names = [n for n, _ in calls]

    assert names[0] == "setsid"  # a session of its own, before the pty (if any)
    milestones = [
        index(calls, "loopback_up"),
        index(calls, "mount", None, "/", None),  # propagation to the host cut first
        index(calls, "mount", rootfs, rootfs),  # the rootfs a mount point
        index(calls, "mount", "proc", f"{rootfs}/proc"),
        index(calls, "mknod", f"{rootfs}/dev/null"),  # on the /dev tmpfs, so after it
        index(calls, "pivot_root", ".", "."),
        index(calls, "umount2", "."),  # the old root gone
        index(calls, "sethostname", "web"),
        index(calls, "write_file", "/proc/sys/kernel/shm_rmid_forced"),
        index(calls, "mount", f"{tmp_path}/ro", f"{tmp_path}/ro"),  # read-only paths
        index(calls, "mount", "tmpfs", f"{tmp_path}/masked-dir"),  # masked paths
        index(calls, "mount", "/dev/null", f"{tmp_path}/masked-file"),
        index(calls, "mount", None, "/", None, syscalls.MS_BIND | syscalls.MS_REMOUNT
              | syscalls.MS_RDONLY, last=True),  # the read-only root, last of the mounts
        index(calls, "chdir", "/tmp"),  # the process's cwd, inside the new root
        index(calls, "setrlimit"),
        index(calls, "write_file", "/proc/self/oom_score_adj"),  # lowering needs root
        index(calls, "prctl", syscalls.PR_CAPBSET_DROP),
        index(calls, "prctl", syscalls.PR_SET_KEEPCAPS, 1),
        index(calls, "setgroups", [10]),
        index(calls, "setgid", 1000),
        index(calls, "setuid", 1000),
        index(calls, "prctl", syscalls.PR_SET_KEEPCAPS, 0),
        index(calls, "capset"),
        index(calls, "prctl", syscalls.PR_SET_NO_NEW_PRIVS, 1),
        index(calls, "load_seccomp"),
        index(calls, "sync.send", {"type": "ready"}),
        index(calls, "execve"),
    ]
    assert milestones == sorted(milestones), [names[i] for i in milestones]
    # The filter is the last thing the kernel is asked before execve: only the wait
    # for `start` (plain file calls, not the Kernel's) comes between, as in runc.
    assert names[index(calls, "load_seccomp"):] == ["load_seccomp", "sync.send", "execve"]
    assert names.count("load_seccomp") == 1

    pivot = index(calls, "pivot_root")
    # Every mount into the rootfs (by its host path) is made before pivot_root...
    assert all(i < pivot for i, (n, a) in enumerate(calls)
               if n in ("mount", "mknod") and str(a[1] if n == "mount" else a[0])
               .startswith(rootfs))
    # ...and every capability leaves the bounding set while we are still root.
    assert max(prctl_indexes(calls, syscalls.PR_CAPBSET_DROP)) < index(calls, "setuid")
    # execve is last, once, with the looked-up path and the spec's environment.
    assert names.count("execve") == 1 and names[-1] == "execve"
    path, args, env = calls[-1][1]
    assert os.path.basename(path) == "sh" and args == ["sh", "-c", "true"]
    assert env == {"PATH": "/usr/bin:/bin"}
    assert os.read(fifo[1], 1) == b"0"  # init said it was past the wait for `start`


def test_without_no_new_privs_the_filter_loads_before_the_capabilities_go(
        tmp_path: Path, fifo: tuple[str, int]) -> None:
    """Loading a filter takes no_new_privs or CAP_SYS_ADMIN: without the first, init
    loads it while it still holds every capability (runc's order)."""
    calls = run_init(tmp_path, fifo, RecordingKernel(), no_new_privileges=False)
    names = [n for n, _ in calls]
    assert names.count("load_seccomp") == 1
    assert not prctl_indexes(calls, syscalls.PR_SET_NO_NEW_PRIVS)
    milestones = [
        index(calls, "pivot_root"),
        index(calls, "setrlimit"),
        index(calls, "load_seccomp"),
        index(calls, "prctl", syscalls.PR_CAPBSET_DROP),
        index(calls, "setuid", 1000),
        index(calls, "capset"),
        index(calls, "sync.send", {"type": "ready"}),
        index(calls, "execve"),
    ]
    assert milestones == sorted(milestones), [names[i] for i in milestones]


def test_a_failed_filter_fails_create(tmp_path: Path, fifo: tuple[str, int]) -> None:
    kernel = RecordingKernel(fail="load_seccomp")
    with pytest.raises(OSError, match="load_seccomp"):
        run_init(tmp_path, fifo, kernel)
    assert "sync.send" not in [n for n, _ in kernel.calls]  # never "ready"


def test_a_failed_step_is_the_last(tmp_path: Path, fifo: tuple[str, int]) -> None:
    kernel = RecordingKernel(fail="pivot_root")
    with pytest.raises(OSError, match="pivot_root"):
        run_init(tmp_path, fifo, kernel)
    names = [n for n, _ in kernel.calls]
    assert names[-1] == "pivot_root"
    assert "sethostname" not in names and "sync.send" not in names


def test_exec_sets_up_the_process_as_init_does(tmp_path: Path) -> None:
    proc = specconv.to_process(dict(default_spec()["process"], args=["ls"], cwd="/srv",
                                    user={"uid": 1000, "gid": 1000}, noNewPrivileges=True),
                                    "process")
    policy = specconv.to_seccomp(
        seccomp.to_oci(seccomp.load_default(), DEFAULT_CAPABILITIES), "linux.seccomp")
    kernel = RecordingKernel()
    init.exec_process(kernel, proc, policy, None, None)
    calls = kernel.calls
    names = [n for n, _ in calls]
    assert "mount" not in names and "pivot_root" not in names  # init did all that
    milestones = [
        index(calls, "setsid"),
        index(calls, "chdir", "/srv"),
        index(calls, "prctl", syscalls.PR_CAPBSET_DROP),
        index(calls, "setuid", 1000),
        index(calls, "capset"),
        index(calls, "prctl", syscalls.PR_SET_NO_NEW_PRIVS, 1),
        index(calls, "load_seccomp"),  # the container's filter: exec is not init's child
        index(calls, "execve"),
    ]
    assert milestones == sorted(milestones), [names[i] for i in milestones]
    assert names[-2:] == ["load_seccomp", "execve"]


def test_exec_is_non_dumpable_before_it_joins_the_container(tmp_path: Path) -> None:
    """runc's nsexec.c order: PR_SET_DUMPABLE 0 before the first setns, so that no
    process of the container ever sees a dumpable fork of the daemon (the child
    inherits it across fork; execve, the last step above, gives it back)."""
    procs = tmp_path / "cgroup.procs"
    procs.touch()
    kernel = RecordingKernel()
    init.enter_container(kernel, [str(procs)], [("uts", "/proc/self/ns/uts"),
                                                 ("mount", "/proc/self/ns/mnt")])
    names = [n for n, _ in kernel.calls]
    assert kernel.calls[0][0] == "prctl"
    assert kernel.calls[0][1][:2] == (syscalls.PR_SET_DUMPABLE, 0)
    assert names == ["prctl", "setns", "setns"]
    assert procs.read_text() == "0"  # the cgroup joined in between ("0": the writer)
