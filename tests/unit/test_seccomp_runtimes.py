"""linux.seccomp as each era's runtime receives it: libcontainer's typed config and
libseccomp filter (built, never loaded: no root, nothing changes for this process),
LXC's profile text, and our CLI's `--security-opt seccomp=FILE`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from shared.client import containerconfig
from shared.oci import seccomp
from shared.oci.defaults import DEFAULT_CAPABILITIES
from stages.stage1_lxc import lxc_config
from stages.stage2_libcontainer.libcontainer import seccomp as libseccomp
from stages.stage2_libcontainer.libcontainer import specconv
from stages.stage2_libcontainer.libcontainer.errors import ContainerError

POLICY = seccomp.to_oci(seccomp.load_default(), DEFAULT_CAPABILITIES, (6, 1), "x86_64")


def bindings_missing() -> str | None:
    try:
        libseccomp.bindings()
    except ContainerError as e:
        return str(e)
    return None


def test_specconv_reads_the_default_policy() -> None:
    config = specconv.to_seccomp(POLICY, "linux.seccomp")
    assert config.default_action == "SCMP_ACT_ERRNO" and config.default_errno_ret == 1
    assert config.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    clone = [r for r in config.syscalls if r.names == ["clone"]][0]
    assert clone.args[0].op == "SCMP_CMP_MASKED_EQ" and clone.args[0].value == 2114060288


@pytest.mark.parametrize("policy, field", [
    ({"defaultAction": "SCMP_ACT_NOPE"}, "linux.seccomp.defaultAction"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]},
     "linux.seccomp.architectures[0]"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_X"]},
     "linux.seccomp.flags[0]"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]},
     "linux.seccomp.syscalls[0].names"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
     "linux.seccomp.syscalls[0].args[0].index"),
    ({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["read"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 0, "value": 1, "op": "=="}]}]},
     "linux.seccomp.syscalls[0].args[0].op"),
    ({"defaultAction": "SCMP_ACT_NOTIFY"}, "linux.seccomp.defaultAction"),
])
def test_specconv_names_the_bad_field(policy: dict, field: str) -> None:
    with pytest.raises(specconv.InvalidSpec) as raised:
        specconv.to_seccomp(policy, "linux.seccomp")
    assert raised.value.field == field


@pytest.mark.skipif(bindings_missing() is not None, reason=f"{bindings_missing()}")
def test_libseccomp_builds_the_filter_runc_would() -> None:
    """The filter, as libseccomp's own pseudo-code: the default action, the calls
    allowed, the argument masks; calls unknown to this libseccomp are skipped."""
    config = specconv.to_seccomp(POLICY, "linux.seccomp")
    pfc = _pfc(libseccomp.build(config))
    for arch in ("x86_64", "x86", "x32"):  # one filter for each ABI the CPU runs
        assert f"# filter for arch {arch} (" in pfc
    x86_64 = pfc.split("# filter for arch x86_64")[1].split("# filter for arch")[0]
    assert "  # default action\n  action ERRNO(1);" in x86_64
    assert "if ($syscall == 83)" in x86_64  # mkdir
    assert "if ($syscall == 272)" not in x86_64  # unshare: the default, EPERM
    assert "if ($a0.lo32 & 0x7e020000 == 0)" in x86_64  # clone, without namespace flags
    custom = specconv.to_seccomp({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdirat", "no_such_call"], "action": "SCMP_ACT_ERRNO"},
                     {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}, "linux.seccomp")
    pfc = _pfc(libseccomp.build(custom))
    assert "if ($syscall == 258)\n    action ERRNO(1);" in pfc  # mkdirat: EPERM
    assert "$syscall == 0)" not in pfc  # read: the default action already


def _pfc(f: object) -> str:
    with tempfile.TemporaryFile("w+") as out:
        f.export_pfc(out)  # type: ignore[attr-defined]
        out.seek(0)
        return out.read()


def test_lxc_profile_from_the_spec() -> None:
    text = lxc_config.seccomp_profile({"linux": {"seccomp": POLICY}})
    assert text is not None
    lines = text.splitlines()
    assert lines[:2] == ["2", "allowlist errno 1"]
    assert "mkdirat allow" in lines and "unshare allow" not in lines
    assert "clone3 errno 38" in lines  # libc falls back to clone on ENOSYS
    # OCI's `value` is MASKED_EQ's mask, `valueTwo` the value; LXC takes them swapped.
    assert "clone allow [0,0,SCMP_CMP_MASKED_EQ,2114060288]" in lines
    assert "socket allow [0,40,SCMP_CMP_GT]" in lines


def test_lxc_profile_of_a_custom_policy() -> None:
    policy = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},  # the default: left out
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [
            {"index": 1, "value": 9, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]}]}
    assert lxc_config.seccomp_profile({"linux": {"seccomp": policy}}) == (
        "2\ndenylist\nmkdir errno 1\nmkdirat errno 1\n"
        "kill errno 13 [1,9,SCMP_CMP_EQ]\nkill errno 13 [1,15,SCMP_CMP_EQ]\n")
    assert lxc_config.seccomp_profile({"linux": {}}) is None
    with pytest.raises(lxc_config.UnsupportedSpec, match="SCMP_ACT_LOG"):
        lxc_config.seccomp_profile({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_LOG"}}})


def test_the_client_sends_the_profiles_content(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": []\n}\n')
    sent = containerconfig.security_options(
        [f"seccomp={path}", "seccomp=unconfined", "no-new-privileges", "label:disable"])
    assert sent[0] == 'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}'
    assert json.loads(sent[0].partition("=")[2])["defaultAction"] == "SCMP_ACT_ALLOW"
    assert sent[1:] == ["seccomp=unconfined", "no-new-privileges", "label:disable"]
    with pytest.raises(containerconfig.BadOption, match=r"opening seccomp profile \(/nosuch"):
        containerconfig.security_options(["seccomp=/nosuch.json"])
    path.write_text("{not json")
    with pytest.raises(containerconfig.BadOption, match="compacting json"):
        containerconfig.security_options([f"seccomp={path}"])
    with pytest.raises(containerconfig.BadOption, match="Invalid --security-opt"):
        containerconfig.security_options(["seccomp"])
