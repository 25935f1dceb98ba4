"""bpf(2): load a small eBPF program into the kernel and attach it to a cgroup.

cgroup v2 has no `devices` controller files. Instead the kernel runs, at every open()
or mknod() of a device node by a process in the cgroup, each BPF_PROG_TYPE_CGROUP_DEVICE
program attached to that cgroup and its ancestors; any program returning 0 makes the
call fail with EPERM. So the allow-list is code: `devicefilter.py` writes it, this
module hands it to the kernel.

One syscall does everything; its first argument says what (BPF_PROG_LOAD,
BPF_PROG_ATTACH...), its second is a `union bpf_attr` whose layout depends on the
command. The kernel accepts a shorter or longer union than its own as long as the
bytes it does not know are zero, so each command packs only its own fields into a
zeroed buffer (the offsets are those of include/uapi/linux/bpf.h).
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

SYS_BPF = 321  # x86_64

# Commands.
BPF_PROG_LOAD = 5
BPF_PROG_ATTACH = 8
BPF_PROG_DETACH = 9
BPF_PROG_QUERY = 16

BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6  # the attach point: device access checks of a cgroup
# Several programs may sit on one cgroup (and its ancestors' run too): runc attaches
# the new one beside any old one, then detaches the old, so no moment is unguarded.
BPF_F_ALLOW_MULTI = 2

ATTR_SIZE = 128  # bigger than any command's fields used here; the rest stays zero
LOG_SIZE = 64 * 1024

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class BPFError(OSError):
    """A bpf(2) call failed; for a load, `log` holds the verifier's explanation."""

    def __init__(self, err: int, what: str, log: str = "") -> None:
        detail = f"\nverifier log:\n{log}" if log else ""
        super().__init__(err, f"bpf {what}: {os.strerror(err)}{detail}")
        self.log = log


def _bpf(cmd: int, attr: ctypes.Array, what: str, log: str = "") -> int:
    ret = _libc.syscall(SYS_BPF, cmd, attr, ATTR_SIZE)
    if ret < 0:
        err = ctypes.get_errno()
        raise BPFError(err, what, log)
    return int(ret)


def prog_load(instructions: bytes, license: str = "Apache") -> int:
    """Load a CGROUP_DEVICE program; returns its fd. The program stays alive while
    an fd or an attachment holds it.

    The kernel's verifier first proves the program safe (it terminates, reads only
    its context, sets R0 before exit); a refusal is explained in the log buffer,
    which is only filled when log_level > 0: so a failed load is retried with it."""
    insns = ctypes.create_string_buffer(instructions, len(instructions))
    lic = ctypes.create_string_buffer(license.encode())
    name = b"wb_devices"  # shown by `bpftool prog`; at most 15 bytes + NUL

    def attempt(log_level: int, log: ctypes.Array | None) -> int:
        attr = ctypes.create_string_buffer(ATTR_SIZE)
        struct.pack_into(
            "=IIQQIIQII16s", attr, 0,
            BPF_PROG_TYPE_CGROUP_DEVICE,       # prog_type
            len(instructions) // 8,            # insn_cnt (8 bytes each)
            ctypes.addressof(insns),           # insns
            ctypes.addressof(lic),             # license
            log_level, LOG_SIZE if log is not None else 0,
            ctypes.addressof(log) if log is not None else 0,
            0, 0,                              # kern_version, prog_flags
            name,                              # prog_name
        )
        try:
            return _bpf(BPF_PROG_LOAD, attr, "prog load")
        except BPFError as e:
            text = log.value.decode(errors="replace") if log is not None else ""
            raise BPFError(e.errno or errno.EINVAL, "prog load", text) from None

    try:
        return attempt(0, None)
    except BPFError as e:
        if e.errno not in (errno.EINVAL, errno.EACCES):
            raise  # not the verifier's doing (EPERM: no CAP_BPF/CAP_SYS_ADMIN...)
    return attempt(1, ctypes.create_string_buffer(LOG_SIZE))


def prog_attach(cgroup_fd: int, prog_fd: int, flags: int = BPF_F_ALLOW_MULTI) -> None:
    """Attach the program to the cgroup (an O_DIRECTORY fd of its directory)."""
    attr = ctypes.create_string_buffer(ATTR_SIZE)
    # target_fd, attach_bpf_fd, attach_type, attach_flags
    struct.pack_into("=IIII", attr, 0, cgroup_fd, prog_fd, BPF_CGROUP_DEVICE, flags)
    _bpf(BPF_PROG_ATTACH, attr, "prog attach")


def prog_detach(cgroup_fd: int, prog_fd: int) -> None:
    attr = ctypes.create_string_buffer(ATTR_SIZE)
    struct.pack_into("=III", attr, 0, cgroup_fd, prog_fd, BPF_CGROUP_DEVICE)
    _bpf(BPF_PROG_DETACH, attr, "prog detach")


def prog_query(cgroup_fd: int) -> list[int]:
    """The ids of the device programs attached to this cgroup itself."""
    ids = (ctypes.c_uint32 * 64)()
    attr = ctypes.create_string_buffer(ATTR_SIZE)
    # target_fd, attach_type, query_flags, attach_flags, prog_ids, prog_cnt
    struct.pack_into("=IIIIQI", attr, 0, cgroup_fd, BPF_CGROUP_DEVICE, 0, 0,
                     ctypes.addressof(ids), len(ids))
    _bpf(BPF_PROG_QUERY, attr, "prog query")
    (count,) = struct.unpack_from("=I", attr, 24)
    return list(ids[:count])


def attach_device_filter(cgroup_dir: str, instructions: bytes) -> None:
    """Load the program and attach it to the cgroup directory. Both fds are closed
    afterwards: the attachment keeps the program alive until the cgroup is removed."""
    prog = prog_load(instructions)
    try:
        cgroup = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            prog_attach(cgroup, prog)
        finally:
            os.close(cgroup)
    finally:
        os.close(prog)
