"""The system-call filter: linux.seccomp, compiled by libseccomp (runc's
libcontainer/seccomp).

A seccomp filter is a BPF program the kernel runs at every system call of the
process and of all its descendants, before the call does anything; it can never be
removed, only made stricter. libseccomp turns a list of rules ("allow read", "mkdirat
fails with EPERM", "clone only without namespace flags") into that program, for each
architecture the CPU runs (x86_64 also runs 32-bit x86 and x32 code, each with its
own syscall numbers: a filter for only one could be walked around). We use the
library runc links, through Debian's binding of it (python3-seccomp), rather than
writing the BPF ourselves: the syscall tables of every architecture and the checks of
the architecture field are what a hand-written program gets wrong, and the lesson
here is what the filter says, not how BPF jumps.

libseccomp is a compiler: it exports the program, and we hand it to the kernel with
seccomp(2) ourselves (syscalls.py), as runc does (its seccomp/patchbpf, which also
patches the program before loading it; see below). Compiling Docker's default
profile takes ~8 ms; loading the result takes a few microseconds. So the program is
compiled before the fork, once per distinct filter in a process (`program`): init
and exec find it already made in the memory the fork copied, and a daemon that runs
libcontainer itself (stage 2) compiles Docker's profile once for all its containers
(make bench, stage 2: Container.create 33.7 -> 20.6 ms, of which init's `hostname,
capabilities, seccomp, ready` 12.1 -> 2.2 ms). runc, a process per call, still compiles
once per create (~11 ms of it).

Loading a filter is allowed to root (CAP_SYS_ADMIN) or to a process with
no_new_privs set; init.py loads it at runc's moment (see `container_init`).

Names the library does not know (a syscall newer than libseccomp 2.5.4) are skipped,
as runc does: the kernel that could run them is newer than the profile's reader. One
difference from runc: runc patches the program so that such unknown calls fail with
ENOSYS (libc then falls back to an older call); here they get the default action.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import sys
from types import ModuleType

from stages.stage2_libcontainer.libcontainer import syscalls
from stages.stage2_libcontainer.libcontainer.errors import ContainerError, describe

TYPE_CHECKING = False  # init's modules are loaded by `runc create`; see init.py
if TYPE_CHECKING:
    from stages.stage2_libcontainer.libcontainer.configs import Seccomp, SeccompRule

ACTIONS = ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS",
           "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
           "SCMP_ACT_LOG")
OPERATORS = {"SCMP_CMP_NE": "NE", "SCMP_CMP_LT": "LT", "SCMP_CMP_LE": "LE",
             "SCMP_CMP_EQ": "EQ", "SCMP_CMP_GE": "GE", "SCMP_CMP_GT": "GT",
             "SCMP_CMP_MASKED_EQ": "MASKED_EQ"}
ARCHITECTURES = ("X86", "X86_64", "X32", "ARM", "AARCH64", "MIPS", "MIPS64", "MIPS64N32",
                 "MIPSEL", "MIPSEL64", "MIPSEL64N32", "PPC", "PPC64", "PPC64LE", "S390",
                 "S390X", "PARISC", "PARISC64", "RISCV64")  # SCMP_ARCH_ + these
# seccomp(2)'s flags, passed with the program: they change how it is attached
# (TSYNC: to every thread of the process), not what it says.
FLAGS = {"SECCOMP_FILTER_FLAG_TSYNC": 1, "SECCOMP_FILTER_FLAG_LOG": 2,
         "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4}
MAX_ARGS = 6  # a system call has at most six arguments
DIST_PACKAGES = "/usr/lib/python3/dist-packages"


def bindings() -> ModuleType:
    """python3-seccomp's `seccomp` extension, imported from its file.

    It lives in Debian's dist-packages, outside the venv; as with python3-lxc (see
    stages/stage1_lxc/lxc_bindings.py), exactly this module is imported, without
    putting the whole directory on sys.path. Call it before forking: init imports
    nothing after the fork."""
    if "seccomp" in sys.modules:
        return sys.modules["seccomp"]
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    try:
        found = [os.path.join(DIST_PACKAGES, name) for name in os.listdir(DIST_PACKAGES)
                 if name.startswith(f"seccomp.{tag}-") and name.endswith(".so")]
    except FileNotFoundError:
        found = []
    if not found:
        raise ContainerError(f"python3-seccomp for this Python ({tag}) is not installed "
                          f"(no seccomp.{tag}-*.so in {DIST_PACKAGES}): "
                          "apt-get install python3-seccomp")
    spec = importlib.util.spec_from_file_location("seccomp", found[0])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["seccomp"] = module
    return module


def _key(action: str, errno_ret: int | None) -> tuple[str, int | None]:
    """An action as the kernel will see it: KILL is KILL_THREAD (the kernel's oldest
    action kills the calling thread), ERRNO and TRACE without a number are EPERM."""
    if action == "SCMP_ACT_KILL":
        action = "SCMP_ACT_KILL_THREAD"
    if action in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        return action, errno.EPERM if errno_ret is None else errno_ret
    return action, None


def _action(lib: ModuleType, key: tuple[str, int | None]) -> object:
    action, code = key
    return {
        "SCMP_ACT_KILL_THREAD": lambda: lib.KILL,
        "SCMP_ACT_KILL_PROCESS": lambda: lib.KILL_PROCESS,
        "SCMP_ACT_TRAP": lambda: lib.TRAP,
        "SCMP_ACT_ERRNO": lambda: lib.ERRNO(code),
        "SCMP_ACT_TRACE": lambda: lib.TRACE(code),
        "SCMP_ACT_ALLOW": lambda: lib.ALLOW,
        "SCMP_ACT_LOG": lambda: lib.LOG,
    }[action]()


def _conditions(lib: ModuleType, rule: SeccompRule) -> list[list[object]]:
    """The rule's conditions, as the argument lists of one or more add_rule calls.

    Conditions on different arguments go into one rule (all must hold). Two on the
    same argument cannot (libseccomp refuses): as runc does, each becomes a rule of its
    own, so that either allows the call."""
    conds = [lib.Arg(a.index, getattr(lib, OPERATORS[a.op]), a.value, a.value_two)
             for a in rule.args]
    indexes = [a.index for a in rule.args]
    if len(set(indexes)) < len(indexes):
        return [[c] for c in conds]
    return [conds]


def build(config: Seccomp) -> object:
    """A libseccomp filter (not loaded yet) for `config`."""
    lib = bindings()
    default = _key(config.default_action, config.default_errno_ret)
    f = lib.SyscallFilter(_action(lib, default))
    # Architectures before rules: a rule is only added for those already there.
    for name in config.architectures:
        arch = getattr(lib.Arch, name.removeprefix("SCMP_ARCH_"))
        if not f.exist_arch(arch):
            f.add_arch(arch)
    if len(config.syscalls) > 32:
        f.set_attr(lib.Attr.CTL_OPTIMIZE, 2)  # a binary tree, not a list, of syscalls
    for rule in config.syscalls:
        key = _key(rule.action, rule.errno_ret)
        if key == default:
            continue  # redundant, and libseccomp refuses it
        action = _action(lib, key)
        for name in rule.names:
            if lib.resolve_syscall(lib.Arch.NATIVE, name) == -1:
                continue  # unknown to this libseccomp (see the module docstring)
            for conds in _conditions(lib, rule):
                try:
                    f.add_rule(action, name, *conds)
                except RuntimeError as e:  # "Library error (errno = -22)"
                    raise ContainerError(f"seccomp: add a rule for {name}: {e}") from None
    return f


class Program:
    """A filter compiled: the BPF instructions (8 bytes each) the kernel will run,
    and the seccomp(2) flags to load them with."""

    def __init__(self, code: bytes, flags: int) -> None:
        self.code = code
        self.flags = flags


_programs: dict[str, Program] = {}  # repr(config) -> its program; see `program`
PROGRAMS_KEPT = 16  # a daemon's containers use few filters (Docker's, per capability set)


def program(config: Seccomp) -> Program:
    """The program for `config`, compiled once per distinct filter in this process
    (see the module docstring). Call it before forking, so that the child finds it
    made. The oldest is forgotten past PROGRAMS_KEPT: a client may send a profile of
    its own with every container, and the daemon must not keep them all."""
    key = repr(config)  # every field, rule by rule (configs are compared by value)
    found = _programs.get(key)
    if found is None:
        found = Program(_export(build(config)), sum(FLAGS[f] for f in config.flags))
        if len(_programs) >= PROGRAMS_KEPT:
            del _programs[next(iter(_programs))]
        _programs[key] = found
    return found


def _export(f: object) -> bytes:
    """libseccomp's compiled program, through an in-memory file (its binding writes
    to a file descriptor)."""
    fd = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
    try:
        with open(fd, "w+b", closefd=False) as out:
            f.export_bpf(out)  # type: ignore[attr-defined]
        return os.pread(fd, os.fstat(fd).st_size, 0)
    except (RuntimeError, OSError) as e:
        raise ContainerError(f"seccomp: compile the filter: {describe(e)}") from None
    finally:
        os.close(fd)


def load(config: Seccomp) -> None:
    """Load the filter into the kernel, for this process and its future children;
    from here on every system call goes through it. (Not through libseccomp's own
    load, which would also set no_new_privs: that is init's business, as the spec's
    process.noNewPrivileges says.)"""
    compiled = program(config)
    try:
        syscalls.seccomp_set_mode_filter(compiled.flags, compiled.code)
    except OSError as e:
        raise ContainerError(f"seccomp: load the filter into the kernel: {describe(e)}"
                             ) from None
