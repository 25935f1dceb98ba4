"""Docker's seccomp profile format -> linux.seccomp (shared/oci/seccomp.py), and the
`--security-opt seccomp=...` rules of runtime_spec. Pure functions: no root, no kernel."""

from __future__ import annotations

import json

import pytest

from shared.oci import runtime_spec, seccomp
from shared.oci.defaults import DEFAULT_CAPABILITIES

AMD64_KERNEL = (6, 1)


def names(policy: dict | None) -> set[str]:
    """Every syscall the policy allows (unconditionally or with arguments)."""
    assert policy is not None
    return {n for rule in policy["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW"
            for n in rule["names"]}


def default(caps: list[str] = DEFAULT_CAPABILITIES, kernel: tuple[int, int] = AMD64_KERNEL,
            machine: str = "x86_64") -> dict:
    policy = seccomp.to_oci(seccomp.load_default(), caps, kernel, machine)
    assert policy is not None
    return policy


def test_the_default_profile_is_dockers_allow_list() -> None:
    policy = default()
    assert policy["defaultAction"] == "SCMP_ACT_ERRNO" and policy["defaultErrnoRet"] == 1
    allowed = names(policy)
    assert {"read", "write", "execve", "mkdirat", "clone", "socket"} <= allowed
    # What a container must not reach without a capability that makes it safe.
    assert not {"mount", "unshare", "setns", "keyctl", "swapon", "reboot",
                "init_module", "bpf", "add_key"} & allowed
    for rule in policy["syscalls"]:  # plain OCI: Docker's conditions are resolved away
        assert set(rule) <= {"names", "action", "errnoRet", "args"}


def test_capabilities_decide_the_conditional_rules() -> None:
    plain = default()
    admin = default(DEFAULT_CAPABILITIES + ["CAP_SYS_ADMIN"])
    assert {"mount", "unshare", "setns", "umount2"} <= names(admin) - names(plain)
    # excludes.caps: without CAP_SYS_ADMIN, clone may not make namespaces (an argument
    # mask) and clone3 fails with ENOSYS (its flags are in memory, out of BPF's reach,
    # so libc falls back to clone); with it, neither rule is there.
    clone3 = [r for r in plain["syscalls"] if r["names"] == ["clone3"]]
    assert clone3 == [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    assert not [r for r in admin["syscalls"] if r["names"] == ["clone3"]]
    masked = [r for r in plain["syscalls"] if r["names"] == ["clone"]]
    assert masked and masked[0]["args"][0]["op"] == "SCMP_CMP_MASKED_EQ"
    # A capability outside the defaults brings its own calls: CAP_SYS_TIME.
    assert "settimeofday" not in names(plain)
    assert "settimeofday" in names(default(DEFAULT_CAPABILITIES + ["CAP_SYS_TIME"]))
    # ...and fewer capabilities, fewer calls: chroot goes with CAP_SYS_CHROOT.
    assert "chroot" in names(plain)
    without = [c for c in DEFAULT_CAPABILITIES if c != "CAP_SYS_CHROOT"]
    assert "chroot" not in names(default(without))


def test_the_kernel_version_decides_min_kernel_rules() -> None:
    assert "ptrace" in names(default(kernel=(4, 8)))
    assert "ptrace" in names(default(kernel=(5, 0)))
    assert "ptrace" not in names(default(kernel=(4, 7)))


def test_the_architecture_decides_arch_rules_and_arch_map() -> None:
    amd64 = default(machine="x86_64")
    assert amd64["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert {"arch_prctl", "modify_ldt"} <= names(amd64)
    arm64 = default(machine="aarch64")
    assert arm64["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert "arch_prctl" not in names(arm64) and "arm_fadvise64_64" in names(arm64)


def test_a_custom_profile_with_excludes_and_the_old_name_field() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [
            {"name": "mkdirat", "action": "SCMP_ACT_ERRNO", "comment": "no mkdir"},
            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
             "excludes": {"caps": ["CAP_FOWNER"]}},
            {"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO",
             "excludes": {"minKernel": "5.0"}},
        ],
    }
    policy = seccomp.to_oci(profile, DEFAULT_CAPABILITIES, (4, 19), "x86_64")
    assert policy == {
        "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO"},
                     {"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}
    assert len(seccomp.to_oci(profile, [], (5, 4), "x86_64")["syscalls"]) == 2  # type: ignore[index]


@pytest.mark.parametrize("profile, message", [
    ({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
      "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}, "both 'architectures' and"),
    ({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ERRNO"}]},
     "both 'name' and 'names'"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["a"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "5"}}]},
     "invalid kernel version"),
])
def test_bad_profiles_are_refused(profile: dict, message: str) -> None:
    with pytest.raises(seccomp.ProfileError, match=message):
        seccomp.to_oci(profile, [], (6, 1), "x86_64")


def test_kernel_releases_as_moby_reads_them() -> None:
    assert seccomp.kernel_version("6.1.0-18-amd64") == (6, 1)
    assert seccomp.kernel_version("3.12-1-amd64") == (3, 12)
    assert seccomp.kernel_version("4.8.0-rc5") == (4, 8)
    with pytest.raises(seccomp.ProfileError):
        seccomp.kernel_version("linux")


def test_security_opt_chooses_the_profile() -> None:
    caps = list(DEFAULT_CAPABILITIES)
    assert names(runtime_spec.seccomp_policy([], caps)) == names(
        seccomp.to_oci(seccomp.load_default(), caps))
    assert runtime_spec.seccomp_policy(["seccomp=unconfined"], caps) is None
    assert runtime_spec.seccomp_policy(["seccomp:unconfined"], caps) is None
    custom = {"defaultAction": "SCMP_ACT_ALLOW",
              "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    policy = runtime_spec.seccomp_policy(
        ["seccomp=unconfined", "seccomp=" + json.dumps(custom)], caps)  # the last wins
    assert policy == custom
    assert runtime_spec.seccomp_policy(["seccomp=builtin"], caps) is not None
    assert runtime_spec.seccomp_policy(["seccomp={}"], caps) is None  # moby: no filter
    with pytest.raises(runtime_spec.SpecError, match="Decoding seccomp profile failed"):
        runtime_spec.seccomp_policy(["seccomp=/tmp/profile.json"], caps)


def test_the_spec_carries_the_policy_for_its_own_capabilities() -> None:
    spec = runtime_spec.build("c1", ["true"], {}, {}, "/rootfs", runtime_spec.User(0, 0))
    assert spec["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    assert "unshare" not in names(spec["linux"]["seccomp"])
    spec = runtime_spec.build("c1", ["true"], {}, {"SecurityOpt": ["seccomp=unconfined"]},
                              "/rootfs", runtime_spec.User(0, 0))
    assert "seccomp" not in spec["linux"]


@pytest.mark.parametrize("profile", [
    '{"defaultAction": 5}',
    '{"syscalls": "x"}',
    '{"syscalls": [1]}',
    '{"syscalls": [{"names": [1], "action": "SCMP_ACT_ALLOW"}]}',
    '{"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": ["x"]}]}',
    '{"architectures": [7]}',
])
def test_a_profile_of_the_wrong_shape_is_refused_not_a_crash(profile: str) -> None:
    """The profile is the client's text: a wrong type is a clear 400 (ProfileError ->
    SpecError), never an AttributeError deep in the converter (a 500)."""
    with pytest.raises(runtime_spec.SpecError, match="Decoding seccomp profile failed"):
        runtime_spec.seccomp_policy([f"seccomp={profile}"], ["CAP_CHOWN"])
