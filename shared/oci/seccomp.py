"""Docker's seccomp profiles -> the OCI spec's `linux.seccomp` for one container.

Seccomp is a filter the kernel runs on every system call a process makes, before the
call does anything: a small BPF program, loaded once (the last thing before the
container's program starts) and inherited by every child, that says allow, or fail
with this errno, by the call's number and arguments. Capabilities decide what root in
a container may do with a call; seccomp decides whether the call is reachable at all,
so a bug in a rarely used system call (keyctl, bpf, userfaultfd...) cannot be reached
from a container that never needed it.

Docker's profile format (what `--security-opt seccomp=FILE.json` takes) is the OCI
`linux.seccomp` object plus conditions: a rule may apply only when the container holds
a capability (`includes.caps`: with CAP_SYS_ADMIN, mount and unshare are allowed), or
not (`excludes.caps`), only on some architectures, or only from a kernel version on
(`minKernel`: ptrace was only safe to allow from 4.8). `to_oci` resolves the conditions
for one container on this host, exactly as moby's `setupSeccomp` does
(github.com/moby/profiles, seccomp/seccomp_linux.go), so that every runtime (ours,
Debian's runc, LXC) receives a plain, unconditional filter.

seccomp_default.json, beside this file, is Docker's default profile: an allow list of
about 370 calls, every other call failing with EPERM. It is moby's
profiles/seccomp/default.json, reproduced unchanged (data, not code) from
github.com/moby/profiles seccomp v0.2.3, as vendored by github.com/moby/moby at commit
b985e2313a8676e18072b442911fc8f64f17d440; Copyright The Moby Authors, licensed under
the Apache License 2.0 (https://www.apache.org/licenses/LICENSE-2.0).
"""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path

DEFAULT_PROFILE = Path(__file__).with_name("seccomp_default.json")

# The kernel's name for this machine (uname -m) -> libseccomp's name for it, which is
# what a rule's `arches` lists ("amd64", not "x86_64"), and the SCMP_ARCH_ constant
# that picks its `archMap` entry (moby's goToNative and nativeToSeccomp).
MACHINES = {
    "x86_64": ("amd64", "SCMP_ARCH_X86_64"),
    "i686": ("x86", "SCMP_ARCH_X86"),
    "i386": ("x86", "SCMP_ARCH_X86"),
    "aarch64": ("arm64", "SCMP_ARCH_AARCH64"),
    "armv7l": ("arm", "SCMP_ARCH_ARM"),
    "ppc64le": ("ppc64le", "SCMP_ARCH_PPC64LE"),
    "ppc64": ("ppc64", "SCMP_ARCH_PPC64"),
    "s390x": ("s390x", "SCMP_ARCH_S390X"),
    "riscv64": ("riscv64", "SCMP_ARCH_RISCV64"),
    "mips64": ("mips64", "SCMP_ARCH_MIPS64"),
    "loongarch64": ("loongarch64", "SCMP_ARCH_LOONGARCH64"),
}

# What a profile shares with the OCI object, copied as they are; the rest (archMap,
# the rules' conditions and comments) is Docker's own, resolved here.
OCI_FIELDS = ("defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath",
              "listenerMetadata")
SYSCALL_FIELDS = ("names", "action", "errnoRet", "args")


class ProfileError(ValueError):
    """A profile that cannot be turned into a filter; the message says why."""


def load_default() -> dict:
    with open(DEFAULT_PROFILE) as f:
        return json.load(f)


def parse(text: str) -> dict:
    """A profile's JSON text (what `seccomp=...` carries), with moby's message."""
    try:
        profile = json.loads(text)
    except ValueError as e:
        raise ProfileError(f"Decoding seccomp profile failed: {e}") from None
    if not isinstance(profile, dict):
        raise ProfileError("Decoding seccomp profile failed: not a JSON object")
    _check_shape(profile)
    return profile


# A profile is hostile input (the client sends the file's text): every field the
# converter reads has the type moby's Go struct decodes it into, or the profile is refused.
_PROFILE_TYPES = {"defaultAction": str, "defaultErrnoRet": int, "architectures": list,
                  "archMap": list, "syscalls": list, "flags": list, "listenerPath": str}
_SYSCALL_TYPES = {"name": str, "names": list, "action": str, "errnoRet": int, "args": list,
                  "includes": dict, "excludes": dict, "comment": str}


def _check_shape(profile: dict) -> None:
    def bad(where: str, value: object) -> ProfileError:
        return ProfileError(f"Decoding seccomp profile failed: {where}: unexpected "
                            f"{type(value).__name__}")

    def check(obj: dict, types: dict[str, type], where: str) -> None:
        for key, kind in types.items():
            value = obj.get(key)
            if value is not None and (not isinstance(value, kind)
                                      or (kind is int and isinstance(value, bool))):
                raise bad(f"{where}{key}", value)

    check(profile, _PROFILE_TYPES, "")
    for key in ("architectures", "flags"):
        for item in profile.get(key) or []:
            if not isinstance(item, str):
                raise bad(key, item)
    for i, entry in enumerate(profile.get("archMap") or []):
        if not isinstance(entry, dict):
            raise bad(f"archMap[{i}]", entry)
    for i, call in enumerate(profile.get("syscalls") or []):
        if not isinstance(call, dict):
            raise bad(f"syscalls[{i}]", call)
        check(call, _SYSCALL_TYPES, f"syscalls[{i}].")
        for name in call.get("names") or []:
            if not isinstance(name, str):
                raise bad(f"syscalls[{i}].names", name)
        for j, arg in enumerate(call.get("args") or []):
            if not isinstance(arg, dict):
                raise bad(f"syscalls[{i}].args[{j}]", arg)


def kernel_version(release: str | None = None) -> tuple[int, int]:
    """"6.1.0-18-amd64" -> (6, 1): only the version and major revision count."""
    release = release or os.uname().release
    found = re.match(r"(\d+)\.(\d+)", release)
    if not found:
        raise ProfileError(f"failed to parse kernel version {release!r}")
    return int(found[1]), int(found[2])


def _min_kernel(value: str) -> tuple[int, int]:
    kernel, sep, major = str(value).partition(".")
    if not sep or not kernel.isdigit() or not major.isdigit():
        raise ProfileError(f'invalid kernel version: "{value}", expected "<kernel>.<major>"')
    return int(kernel), int(major)


def to_oci(profile: dict, bounding: list[str], kernel: tuple[int, int] | None = None,
           machine: str | None = None) -> dict | None:
    """The `linux.seccomp` object for a container whose bounding set is `bounding`, on
    a host with this kernel version and machine (this one's by default); None if the
    profile asks for no filter (no default action and no rules)."""
    if not profile.get("defaultAction") and not profile.get("syscalls"):
        return None
    if profile.get("architectures") and profile.get("archMap"):
        raise ProfileError("both 'architectures' and 'archMap' are specified in the "
                           "seccomp profile, use either 'architectures' or 'archMap'")
    kernel = kernel or kernel_version()
    arch, native = MACHINES.get(machine or platform.machine(), ("", ""))
    out = {k: profile[k] for k in OCI_FIELDS if profile.get(k) is not None}
    # archMap: the native architecture and the ones its CPU also runs (x86_64 runs
    # 32-bit x86 and x32 programs: each has its own syscall numbers, and a filter that
    # left them out could be walked around with int 0x80).
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == native:
            out["architectures"] = [native, *(entry.get("subArchitectures") or [])]
            break
    syscalls = []
    for call in profile.get("syscalls") or []:
        if call.get("name"):
            if call.get("names"):
                raise ProfileError("both 'name' and 'names' are specified in the seccomp "
                                   "profile, use either 'name' or 'names'")
            call = dict(call, names=[call["name"]])
        if _applies(call, set(bounding), kernel, arch):
            syscalls.append({k: call[k] for k in SYSCALL_FIELDS if call.get(k) is not None})
    out["syscalls"] = syscalls
    return out


def _applies(call: dict, caps: set[str], kernel: tuple[int, int], arch: str) -> bool:
    """moby's rule: every `includes` condition must hold, no `excludes` one may."""
    excludes = call.get("excludes") or {}
    if arch in (excludes.get("arches") or []):
        return False
    if any(c in caps for c in excludes.get("caps") or []):
        return False
    if excludes.get("minKernel") and kernel >= _min_kernel(excludes["minKernel"]):
        return False
    includes = call.get("includes") or {}
    if includes.get("arches") and arch not in includes["arches"]:
        return False
    if not all(c in caps for c in includes.get("caps") or []):
        return False
    if includes.get("minKernel") and kernel < _min_kernel(includes["minKernel"]):
        return False
    return True
