"""libcontainer's seccomp filter, compiled by libseccomp and loaded with seccomp(2) by
us (seccomp.py), in a real kernel: each test loads a filter into a forked child, never
into the test process (a filter can never be removed)."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable

import pytest

from shared.oci import seccomp as profiles
from shared.oci.defaults import DEFAULT_CAPABILITIES
from stages.stage2_libcontainer.libcontainer import seccomp, specconv, syscalls
from stages.stage2_libcontainer.libcontainer.configs import Seccomp

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loading a filter without "
                                "no_new_privs takes CAP_SYS_ADMIN")


CLONE_NEWUSER = 0x10000000


def policy(**fields: object) -> Seccomp:
    """Everything allowed but mkdir/mkdirat, which fail with EACCES."""
    spec = {"defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                          "errnoRet": errno.EACCES}]} | fields
    return specconv.to_seccomp(spec, "linux.seccomp")


def in_child(body: Callable[[], int]) -> int:
    """body() in a forked child; its return value is the child's exit code (0-255)."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            code = body()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def seccomp_status() -> tuple[str, str]:
    """This process's seccomp mode (2: filter) and number of filters, from the kernel."""
    with open("/proc/self/status") as f:
        fields = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
    return fields["Seccomp"].strip(), fields["Seccomp_filters"].strip()


def test_a_loaded_program_is_what_the_kernel_runs() -> None:
    config = policy()
    seccomp.program(config)  # compiled here, as Container.create does before its fork
    where = tempfile.mkdtemp()

    def child() -> int:
        assert seccomp_status() == ("0", "0")
        seccomp.load(config)
        assert seccomp_status() == ("2", "1")
        try:
            os.mkdir(os.path.join(where, "d"))
        except PermissionError as e:
            return e.errno  # EACCES: the rule's errno, not EPERM
        return 0

    try:
        assert in_child(child) == errno.EACCES
        assert os.listdir(where) == []
    finally:
        os.rmdir(where)


def test_the_flags_reach_the_kernel() -> None:
    """An unknown flag bit would fail with EINVAL: TSYNC and LOG are accepted as flags
    of the call, not ignored. TSYNC on a process with a second thread proves it: the
    kernel attaches the filter to that thread too."""
    import threading

    config = policy(flags=["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"])
    assert seccomp.program(config).flags == 1 | 2

    def child() -> int:
        seen: list[str] = []
        ready, go = threading.Event(), threading.Event()

        def other() -> None:
            ready.set()
            go.wait()
            with open(f"/proc/self/task/{threading.get_native_id()}/status") as f:
                seen.extend(line.split()[1] for line in f if line.startswith("Seccomp:"))

        t = threading.Thread(target=other)
        t.start()
        ready.wait()
        seccomp.load(config)
        go.set()
        t.join()
        return 0 if seen == ["2"] else 1

    assert in_child(child) == 0


def test_dockers_profile_loads_and_refuses_what_it_should() -> None:
    config = specconv.to_seccomp(
        profiles.to_oci(profiles.load_default(), DEFAULT_CAPABILITIES), "linux.seccomp")
    compiled = seccomp.program(config)
    assert len(compiled.code) % 8 == 0 and len(compiled.code) > 8 * 100

    def child() -> int:
        seccomp.load(config)
        try:
            syscalls.unshare(CLONE_NEWUSER)
        except OSError as e:
            return e.errno  # EPERM: Docker's profile has no unshare without CAP_SYS_ADMIN
        return 0

    assert in_child(child) == errno.EPERM


def test_a_program_is_compiled_once_per_filter_and_few_are_kept() -> None:
    """Unit (no kernel): the memo that lets a daemon compile Docker's profile once."""
    first = seccomp.program(policy())
    assert seccomp.program(policy()) is first  # equal config, same program
    others = [policy(syscalls=[{"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
                                "errnoRet": n}]) for n in range(1, seccomp.PROGRAMS_KEPT + 1)]
    for other in others:
        assert seccomp.program(other) is not first
    assert len(seccomp._programs) <= seccomp.PROGRAMS_KEPT
    assert seccomp.program(policy()) is not first  # forgotten, compiled again


def test_a_program_too_long_for_the_count_is_refused_not_cut() -> None:
    """sock_fprog's count is 16 bits: a longer program must fail (EINVAL, as the kernel
    answers past its own limit of 4096), never reach the kernel as its first
    (count mod 65536) instructions. Nothing is loaded: the child's status says so."""
    allow = (0x06).to_bytes(2, "little") + bytes(2) + (0x7FFF0000).to_bytes(4, "little")
    too_long = allow * (0x10000 + 1)  # would be cut to 1 instruction: `return ALLOW`

    def child() -> int:
        try:
            syscalls.seccomp_set_mode_filter(0, too_long)
        except OSError as e:
            return e.errno if seccomp_status() == ("0", "0") else 100
        return 0

    assert in_child(child) == errno.EINVAL
