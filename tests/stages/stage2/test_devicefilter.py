"""The cgroup-v2 device filter (cgroups/devicefilter.py + bpf.py).

Two kinds of test, labelled:
- pure: the program's instructions, decoded back, for a few rule lists;
- real kernel, on this hybrid host: the kernel runs a cgroup-v2 device program for a
  process's v2 cgroup even when the v1 devices controller also applies, so a cgroup
  made under /sys/fs/cgroup/unified with a filter attached proves the program itself
  (loaded, accepted by the verifier, and deciding opens). The whole container on pure
  v2 is checked in the VM (tests/cgroupv2, `docker_devices_*`).
"""

from __future__ import annotations

import errno
import os
import struct

import pytest

from stages.stage2_libcontainer.libcontainer.cgroups import bpf, devicefilter
from stages.stage2_libcontainer.libcontainer.configs import DeviceRule

UNIFIED = "/sys/fs/cgroup/unified"


def decode(program: bytes) -> list[tuple[int, int, int, int, int]]:
    out = []
    for i in range(0, len(program), 8):
        code, regs, off, imm = struct.unpack("<BBhi", program[i:i + 8])
        out.append((code, regs & 0xF, regs >> 4, off, imm))
    return out


def run(program: bytes, kind: str, major: int, minor: int, access: str) -> int:
    """A tiny interpreter of the few opcodes the filter uses (pure test helper)."""
    ctx = [(devicefilter.access_mask(access) << 16) | devicefilter.DEV_TYPES[kind], major, minor]
    regs = [0] * 11
    insns = decode(program)
    pc = 0
    while True:
        code, dst, src, off, imm = insns[pc]
        pc += 1
        if code == devicefilter.LDX_MEM_W:
            regs[dst] = ctx[off // 4]
        elif code == devicefilter.ALU32_AND_K:
            regs[dst] &= imm
        elif code == devicefilter.ALU32_RSH_K:
            regs[dst] >>= imm
        elif code == devicefilter.ALU32_MOV_X:
            regs[dst] = regs[src]
        elif code == devicefilter.ALU64_MOV_K:
            regs[dst] = imm
        elif code == devicefilter.JNE_K:
            pc += off if regs[dst] != imm else 0
        elif code == devicefilter.JNE_X:
            pc += off if regs[dst] != regs[src] else 0
        elif code == devicefilter.EXIT:
            return regs[0]
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")


DEFAULTS = [
    DeviceRule(False, "a", -1, -1, "rwm"),
    DeviceRule(True, "c", -1, -1, "m"),
    DeviceRule(True, "b", -1, -1, "m"),
    DeviceRule(True, "c", 1, 3, "rwm"),
    DeviceRule(True, "c", 136, -1, "rwm"),
]


def test_pure_default_rules_decide_as_the_v1_list_would() -> None:
    prog = devicefilter.build(DEFAULTS)
    assert run(prog, "c", 1, 3, "rw") == 1  # /dev/null
    assert run(prog, "c", 136, 4, "r") == 1  # a pty
    assert run(prog, "b", 8, 0, "r") == 0  # a disk: denied
    assert run(prog, "b", 8, 0, "m") == 1  # but mknod of it is allowed
    assert run(prog, "c", 1, 1, "r") == 0  # /dev/mem
    assert run(prog, "c", 1, 1, "rm") == 0  # mknod alone is allowed, read is not


def test_pure_last_matching_rule_wins() -> None:
    rules = [DeviceRule(True, "c", 1, 3, "rwm"), DeviceRule(False, "c", 1, -1, "w")]
    prog = devicefilter.build(rules)
    assert run(prog, "c", 1, 3, "r") == 1
    assert run(prog, "c", 1, 3, "w") == 0


def test_pure_allow_all_ends_the_program() -> None:
    prog = devicefilter.build([DeviceRule(False, "c", 1, 3), DeviceRule(True, "a")])
    # prologue (6) + the allow-all block (2): the earlier rule is unreachable, not emitted
    assert len(prog) // 8 == 8
    assert run(prog, "b", 8, 0, "rwm") == 1


needs_unified = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.isdir(UNIFIED) and not os.path.exists(
        "/sys/fs/cgroup/cgroup.controllers"),
    reason="needs root and a cgroup2 tree",
)


def _cgroup2_root() -> str:
    return UNIFIED if os.path.isdir(UNIFIED) else "/sys/fs/cgroup"


def _in_cgroup_open(cgroup: str, path: str) -> int:
    """Fork a child into the cgroup; it opens `path` for reading. 0, or the errno."""
    pid = os.fork()
    if pid == 0:  # the child: join, open, report by exit status
        code = 100
        try:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            try:
                os.close(os.open(path, os.O_RDONLY))
                code = 0
            except OSError as e:
                code = e.errno or 101
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@needs_unified
def test_real_kernel_program_denies_dev_null_in_a_v2_cgroup_on_this_host() -> None:
    cgroup = os.path.join(_cgroup2_root(), f"wb-devfilter-test-{os.getpid()}")
    os.mkdir(cgroup)
    try:
        # Deny all, allow /dev/zero only: /dev/null is refused, by the program alone
        # (the v1 devices controller of this test process allows everything).
        rules = [DeviceRule(False, "a"), DeviceRule(True, "c", 1, 5, "rwm")]
        bpf.attach_device_filter(cgroup, devicefilter.build(rules))
        fd = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY)
        try:
            assert len(bpf.prog_query(fd)) == 1
        finally:
            os.close(fd)
        assert _in_cgroup_open(cgroup, "/dev/null") == errno.EPERM
        assert _in_cgroup_open(cgroup, "/dev/zero") == 0
    finally:
        os.rmdir(cgroup)  # frees the program with it
    assert _in_cgroup_open(_cgroup2_root(), "/dev/null") == 0  # the child went back


@needs_unified
def test_real_kernel_verifier_refusal_comes_with_its_log() -> None:
    bad = devicefilter.insn(devicefilter.EXIT)  # returns R0 never set
    with pytest.raises(bpf.BPFError) as caught:
        bpf.prog_load(bad)
    assert "R0" in caught.value.log
