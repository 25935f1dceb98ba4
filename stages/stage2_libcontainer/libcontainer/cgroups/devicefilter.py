"""The device allow-list as an eBPF program (cgroup v2), written by hand.

On v1 the kernel keeps the list itself (devices.allow / devices.deny). On v2 the list
is a program the kernel runs at each open() or mknod() of a device node: it gets a
`struct bpf_cgroup_dev_ctx` and returns 1 (allow) or 0 (deny, EPERM):

    struct bpf_cgroup_dev_ctx {
        __u32 access_type;  /* (access << 16) | type */
        __u32 major;
        __u32 minor;
    };

type: BPF_DEVCG_DEV_BLOCK 1, BPF_DEVCG_DEV_CHAR 2; access, a bit set:
BPF_DEVCG_ACC_MKNOD 1, READ 2, WRITE 4.

The rules mean what the v1 files would: later rules override earlier ones, and
what no rule matches is denied. A program runs top to bottom and stops at its
first `exit`, so, as runc's devicefilter.go does, the rules are emitted last
first: the first block that matches returns that rule's verdict, which is the
verdict of the last matching rule in the list. Each block jumps over itself to the
next block as soon as one field does not match.

An eBPF instruction is 8 bytes: an opcode, a destination and a source register
(4 bits each), a signed 16-bit jump offset (counted in instructions, from the next
one) and a signed 32-bit immediate. R1 holds the context pointer at entry; R0 is the
return value.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # not typing's: see the cgroups package docstring
if TYPE_CHECKING:
    from stages.stage2_libcontainer.libcontainer.configs import DeviceRule

# Opcodes used (class | operation | source), from include/uapi/linux/bpf.h.
LDX_MEM_W = 0x61  # dst = *(u32 *)(src + off)
ALU32_AND_K = 0x54  # dst = (u32)dst & imm
ALU32_RSH_K = 0x74  # dst = (u32)dst >> imm
ALU32_MOV_X = 0xBC  # dst = (u32)src
ALU64_MOV_K = 0xB7  # dst = imm
JNE_K = 0x55  # if dst != imm: pc += off
JNE_X = 0x5D  # if dst != src: pc += off
EXIT = 0x95  # return R0

R0, R1, R2, R3, R4, R5 = range(6)

DEV_TYPES = {"b": 1, "c": 2}  # BPF_DEVCG_DEV_*
ACCESS_BITS = {"m": 1, "r": 2, "w": 4}  # BPF_DEVCG_ACC_*


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """One instruction, in the kernel's `struct bpf_insn` layout (little-endian)."""
    return struct.pack("<BBhi", code, dst | (src << 4), off, imm)


def prologue() -> list[bytes]:
    """Unpack the context into registers once; each rule's block only compares."""
    return [
        insn(LDX_MEM_W, R2, R1, 0),  # R2 = ctx->access_type
        insn(ALU32_AND_K, R2, imm=0xFFFF),  # R2 = its low half: the device type
        insn(LDX_MEM_W, R3, R1, 0),  # R3 = ctx->access_type
        insn(ALU32_RSH_K, R3, imm=16),  # R3 = its high half: the access asked for
        insn(LDX_MEM_W, R4, R1, 4),  # R4 = ctx->major
        insn(LDX_MEM_W, R5, R1, 8),  # R5 = ctx->minor
    ]


def access_mask(access: str) -> int:
    mask = 0
    for letter in access:
        mask |= ACCESS_BITS[letter]
    return mask


def rule_block(rule: DeviceRule) -> tuple[list[bytes], bool]:
    """The instructions for one rule, and whether the rule matches everything (then
    nothing after it could ever run, and the verifier refuses unreachable code)."""
    tests: list[list[bytes]] = []
    if rule.type != "a":
        # the type differs: not this rule
        tests.append([insn(JNE_K, R2, imm=DEV_TYPES[rule.type])])
    mask = access_mask(rule.access or "rwm")
    if mask != 0b111:
        # Some asked-for access is outside the rule's (asked & ~allowed != 0):
        # not this rule. R1 (the context pointer) is free to use as scratch now.
        tests.append([
            insn(ALU32_MOV_X, R1, R3),  # R1 = access asked for
            insn(ALU32_AND_K, R1, imm=mask),  # R1 = the part of it this rule covers
            insn(JNE_X, R1, R3),  # not all of it covered: not this rule
        ])
    if rule.major != -1:
        tests.append([insn(JNE_K, R4, imm=rule.major)])  # another major: not this rule
    if rule.minor != -1:
        tests.append([insn(JNE_K, R5, imm=rule.minor)])  # another minor: not this rule
    verdict = [
        insn(ALU64_MOV_K, R0, imm=1 if rule.allow else 0),  # R0 = this rule's verdict
        insn(EXIT),  # return it
    ]
    # Every test jumps past the rest of the block: to the first instruction of the
    # next rule's block. The offset counts from the instruction after the jump.
    block: list[bytes] = []
    remaining = sum(len(t) for t in tests) + len(verdict)
    for test in tests:
        remaining -= len(test)
        for i, one in enumerate(test):
            if i == len(test) - 1:  # the jump is each test's last instruction
                code, regs, _, imm = struct.unpack("<BBhi", one)
                one = struct.pack("<BBhi", code, regs, remaining, imm)
            block.append(one)
    return block + verdict, not tests


def build(rules: list[DeviceRule]) -> bytes:
    """The whole program for a container's rules (default deny)."""
    program = prologue()
    for rule in reversed(rules):  # the last matching rule decides: try it first
        block, matches_all = rule_block(rule)
        program += block
        if matches_all:
            # Its verdict covers every device: the rules before it never decide.
            return b"".join(program)
    program += [
        insn(ALU64_MOV_K, R0, imm=0),  # no rule matched: deny
        insn(EXIT),
    ]
    return b"".join(program)
