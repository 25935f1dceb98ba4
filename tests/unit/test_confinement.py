"""Unit tests (pure, no container): HostConfig's confinement options -> the runtime
spec (shared/oci/confinement.py, runtime_spec.confine) -> LXC config lines (stage 1).
What a container sees of them is tested in tests/behaviour/test_confinement.py."""

from __future__ import annotations

import shlex

import pytest

from shared.oci import confinement, runtime_spec
from shared.oci.defaults import DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS
from shared.oci.users import User, additional_groups
from stages.stage1_lxc import lxc_config

CID = "c" * 64


def spec(host_config: dict) -> dict:
    return runtime_spec.build(CID, ["true"], {"Hostname": "box"}, host_config, "/r/rootfs",
                              User(0, 0))


def caps(host_config: dict) -> list[str]:
    return confinement.capabilities(host_config)


def test_capability_names_are_normalized_as_moby_does() -> None:
    assert confinement.normalize_capabilities(["sys_admin", "CAP_NET_ADMIN", "all"],
                                              "CapAdd") == [
        "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "ALL"]
    assert confinement.normalize_capabilities("Sys_Time", "CapAdd") == ["CAP_SYS_TIME"]
    with pytest.raises(confinement.ConfinementError,
                       match='^invalid CapAdd: unknown capability: "CAP_FOO"$'):
        confinement.normalize_capabilities(["foo"], "CapAdd")
    missing = [c for c in confinement.CAPABILITIES
               if c not in confinement.supported_capabilities()]
    for cap in missing[:1]:  # this host's bounding set lacks CAP_SYS_RESOURCE
        with pytest.raises(confinement.ConfinementError,
                           match=f'^invalid CapDrop: capability not supported by your kernel '
                                 f'or not available in the current environment: "{cap}"$'):
            confinement.normalize_capabilities([cap], "CapDrop")


def test_add_drop_and_all_follow_tweak_capabilities() -> None:
    assert caps({}) == DEFAULT_CAPABILITIES
    assert caps({"CapAdd": ["SYS_ADMIN"], "CapDrop": ["chown"]}) == [
        *[c for c in DEFAULT_CAPABILITIES if c != "CAP_CHOWN"], "CAP_SYS_ADMIN"]
    assert caps({"CapDrop": ["ALL"], "CapAdd": ["kill"]}) == ["CAP_KILL"]
    everything = confinement.supported_capabilities()
    assert caps({"CapAdd": ["ALL"], "CapDrop": ["SYS_ADMIN"]}) == [
        c for c in everything if c != "CAP_SYS_ADMIN"]
    assert caps({"Privileged": True, "CapDrop": ["ALL"]}) == everything
    # drop and add the same one: the add wins (drops first, then adds)
    assert "CAP_KILL" in caps({"CapDrop": ["KILL"], "CapAdd": ["KILL"]})


def test_privileged_spec_has_every_capability_no_masks_writable_sys_no_seccomp() -> None:
    s = spec({"Privileged": True})
    assert s["process"]["capabilities"]["bounding"] == confinement.supported_capabilities()
    assert s["process"]["capabilities"]["effective"] == confinement.supported_capabilities()
    assert (s["linux"]["maskedPaths"], s["linux"]["readonlyPaths"]) == ([], [])
    mounts = {m["destination"]: m["options"] for m in s["mounts"]}
    assert "ro" not in mounts["/sys"] and "ro" not in mounts["/sys/fs/cgroup"]
    assert "seccomp" not in s["linux"]
    assert s["process"]["noNewPrivileges"] is False
    # a profile asked for is still loaded
    assert "seccomp" in spec({"Privileged": True, "SecurityOpt": ["seccomp=builtin"]})["linux"]


def test_no_new_privileges_is_off_unless_asked() -> None:
    assert spec({})["process"]["noNewPrivileges"] is False
    for option in ("no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"):
        assert spec({"SecurityOpt": [option]})["process"]["noNewPrivileges"] is True
    assert spec({"SecurityOpt": ["no-new-privileges=false"]})["process"][
        "noNewPrivileges"] is False
    with pytest.raises(runtime_spec.SpecError, match='invalid --security-opt 2: "no-new-'):
        spec({"SecurityOpt": ["no-new-privileges=maybe"]})
    with pytest.raises(runtime_spec.SpecError, match='invalid --security-opt 2: "foo=bar"'):
        spec({"SecurityOpt": ["foo=bar"]})
    with pytest.raises(runtime_spec.SpecError, match='invalid --security-opt 1: "foo"'):
        spec({"SecurityOpt": ["foo"]})


def test_writable_cgroups_follows_privileged_unless_said() -> None:
    def cgroup_ro(host_config: dict) -> bool:
        (m,) = [m for m in spec(host_config)["mounts"] if m["type"] == "cgroup"]
        return "ro" in m["options"]
    assert cgroup_ro({})
    assert not cgroup_ro({"SecurityOpt": ["writable-cgroups"]})
    assert not cgroup_ro({"SecurityOpt": ["writable-cgroups=true"]})
    assert not cgroup_ro({"Privileged": True})
    assert cgroup_ro({"Privileged": True, "SecurityOpt": ["writable-cgroups=false"]})


def test_system_paths_are_mobys_or_none() -> None:
    s = spec({})
    assert s["linux"]["maskedPaths"] == MASKED_PATHS
    assert s["linux"]["readonlyPaths"] == READONLY_PATHS
    assert "/proc/interrupts" in MASKED_PATHS and "/sys/devices/virtual/powercap" in MASKED_PATHS
    s = spec({"MaskedPaths": [], "ReadonlyPaths": []})  # systempaths=unconfined
    assert (s["linux"]["maskedPaths"], s["linux"]["readonlyPaths"]) == ([], [])
    s = spec({"MaskedPaths": ["/etc/secret"], "ReadonlyPaths": ["/srv"]})  # the API's own
    assert (s["linux"]["maskedPaths"], s["linux"]["readonlyPaths"]) == (["/etc/secret"],
                                                                        ["/srv"])
    assert spec({"Privileged": True, "MaskedPaths": ["/x"]})["linux"]["maskedPaths"] == []


def test_read_only_makes_every_mount_read_only_but_dev_and_proc() -> None:
    s = spec({"ReadonlyRootfs": True})
    assert s["root"]["readonly"] is True
    for m in s["mounts"]:
        writable = m["destination"] in ("/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue")
        assert ("ro" in m["options"]) != writable, m


def test_ulimits_become_rlimits_checked_as_docker() -> None:
    s = spec({"Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200},
                          {"Name": "core", "Soft": -1, "Hard": -1}]})
    assert s["process"]["rlimits"] == [
        {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
        {"type": "RLIMIT_CORE", "soft": 2**64 - 1, "hard": 2**64 - 1}]
    with pytest.raises(confinement.ConfinementError,
                       match="^ulimit soft limit must be less than or equal to hard "
                             "limit: 300 > 200$"):
        confinement.rlimits({"Ulimits": [{"Name": "nofile", "Soft": 300, "Hard": 200}]})
    with pytest.raises(confinement.ConfinementError, match="^invalid ulimit type: as$"):
        confinement.rlimits({"Ulimits": [{"Name": "as", "Soft": 1, "Hard": 1}]})


def test_sysctls_only_of_the_containers_own_namespaces() -> None:
    ok = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "1000", "fs.mqueue.msg_max": "20",
          "kernel.domainname": "example.org"}
    assert spec({"Sysctls": ok})["linux"]["sysctl"] == ok
    for key, message in (
            ("kernel.panic", 'sysctl "kernel.panic" is not in a separate kernel namespace'),
            ("vm.swappiness", 'sysctl "vm.swappiness" is not in a separate kernel namespace'),
            ("kernel.hostname", 'sysctl "kernel.hostname" is not allowed'),
            ("net..x", 'sysctl "net..x" is not in a separate'),
            ("net.x\nlxc.hook.stop", "is not in a separate")):
        with pytest.raises(confinement.ConfinementError) as e:
            confinement.sysctls({"Sysctls": {key: "1"}})
        assert message in str(e.value)
    with pytest.raises(confinement.ConfinementError, match="not allowed in host network"):
        confinement.sysctls({"Sysctls": {"net.ipv4.ip_forward": "1"}, "NetworkMode": "host"})


def test_oom_settings() -> None:
    assert confinement.oom_kill_disable({"OomKillDisable": True}, 1) is True
    with pytest.raises(confinement.ConfinementError, match="does not support OomKillDisable"):
        confinement.oom_kill_disable({"OomKillDisable": True}, 2)
    assert confinement.oom_kill_disable({}, 2) is False
    assert confinement.oom_score_adj({"OomScoreAdj": 500}) == 500
    with pytest.raises(confinement.ConfinementError,
                       match=r"^Invalid value 1001, range for oom score adj is \[-1000, 1000\]$"):
        confinement.oom_score_adj({"OomScoreAdj": 1001})


def test_group_add_resolves_names_in_the_containers_group_file() -> None:
    groups = [["wheel", "x", "10", "root"], ["staff", "x", "50", ""], ["42", "x", "7", ""]]
    assert additional_groups(groups, ["wheel", "1234", "staff", "10"]) == [10, 1234, 50]
    assert additional_groups(groups, ["42"]) == [42]  # a number is a gid, never a name
    with pytest.raises(runtime_spec.SpecError,
                       match="^unable to find group nosuch: no matching entries in group file$"):
        additional_groups(groups, ["nosuch"])


# ------------------------------------------------------------------ stage 1's lines

PATHS = lxc_config.Paths(state_dir="/s", log="/s/l", rootfs_mount="/s/m", hook="/s/h")


def test_lxc_lines_for_rlimits_sysctls_and_oom() -> None:
    s = spec({"Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200},
                          {"Name": "core", "Soft": -1, "Hard": -1}],
              "Sysctls": {"net.ipv4.ip_forward": "1"}, "OomScoreAdj": -5,
              "OomKillDisable": True})
    assert lxc_config.prlimits(s) == ["lxc.prlimit.nofile = 100:200",
                                      "lxc.prlimit.core = unlimited:unlimited"]
    assert lxc_config.namespaced_sysctls(s) == {"net.ipv4.ip_forward": "1"}
    hook = lxc_config.hook_script(PATHS, "/s/start", "/s/pid", [], "/s/oom",
                                  lxc_config.namespaced_sysctls(s))
    (command,) = [ln for ln in hook.splitlines() if "nsenter" in ln]
    assert "'/proc/sys/net/ipv4/ip_forward'" in command
    assert hook.index(command) < hook.index('echo "$LXC_PID"')  # before the init runs
    assert lxc_config.oom(s, 1) == ["lxc.proc.oom_score_adj = -5",
                                    "lxc.cgroup.memory.oom_control = 1"]
    with pytest.raises(lxc_config.UnsupportedSpec, match="disableOOMKiller"):
        lxc_config.oom(s, 2)
    text = lxc_config.render(s, PATHS, 1, is_dir=lambda p: False)
    assert "lxc.prlimit.nofile = 100:200" in text.splitlines()


def test_a_sysctl_value_stays_one_word_of_the_hook_script() -> None:
    """The value is the client's: quoted for the shell, never code (config injection)."""
    value = "1'; touch /tmp/pwned; echo '"
    s = spec({"Sysctls": {"net.ipv4.ip_forward": value}})
    hook = lxc_config.hook_script(PATHS, "/s/start", "/s/pid", [], "/s/oom",
                                  lxc_config.namespaced_sysctls(s))
    (command,) = [ln for ln in hook.splitlines() if "nsenter" in ln]
    assert lxc_config.quote(value) in command
    assert shlex.split(command)[-5] == value  # one word: the value, exactly
    with pytest.raises(runtime_spec.SpecError, match="invalid value"):
        spec({"Sysctls": {"net.ipv4.ip_forward": "1\nreboot"}})


def test_lxc_lines_for_capabilities_groups_and_no_new_privs() -> None:
    s = spec({"CapDrop": ["ALL"], "CapAdd": ["sys_admin", "KILL"],
              "SecurityOpt": ["no-new-privileges"]})
    assert lxc_config.capabilities(s) == ["lxc.cap.keep = sys_admin kill"]
    assert "lxc.no_new_privs = 1" in lxc_config.security(s)
    assert "lxc.no_new_privs = 1" not in lxc_config.security(spec({}))
    s = runtime_spec.build(CID, ["id"], {}, {}, "/r", User(0, 0, (10, 1234)))
    assert "lxc.init.groups = 10,1234" in lxc_config.process(s)


def test_lxc_privileged_mounts_writable_sys_cgroup_proc_and_masks_nothing() -> None:
    s = spec({"Privileged": True})
    assert lxc_config.mounts(s)[0] == "lxc.mount.auto = proc:rw sys:rw cgroup:rw"
    assert lxc_config.masks(s, PATHS, is_dir=lambda p: False) == []
    assert lxc_config.seccomp(s, PATHS) == []
    assert len(lxc_config.capabilities(s)[0].split(" = ")[1].split()) == len(
        confinement.supported_capabilities())
    default = spec({})
    assert lxc_config.mounts(default)[0] == "lxc.mount.auto = proc:mixed sys:ro cgroup:ro"
    masked = lxc_config.masks(default, PATHS, is_dir=lambda p: False)
    assert "lxc.mount.entry = /dev/null proc/interrupts none bind,optional 0 0" in masked


def test_lxc_read_only_root() -> None:
    s = spec({"ReadonlyRootfs": True})
    assert "lxc.rootfs.options = ro" in lxc_config.rootfs(s, PATHS)
