"""config-linux.md: Sysctl, Personality, Offset for Time Namespace, Mount Label,
IntelRdt: each applied as the spec says, or refused where this host cannot."""

from __future__ import annotations

import os

from tests.runtime.conftest import Runtime, refused, run_ok, xfail_on


def test_sysctl_in_the_containers_namespace(rt: Runtime, bundle) -> None:
    """config-linux.md Sysctl: "sysctl (object, OPTIONAL) allows kernel parameters to be
    modified at runtime for the container": inside its network namespace, not the host's."""
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
        host = f.read()
    b = bundle(["cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start",
                "/proc/sys/kernel/msgmax"])
    b.linux["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "80",
                         "kernel.msgmax": "4096"}
    assert run_ok(rt, b).split() == ["80", "4096"]
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
        assert f.read() == host


def test_sysctl_of_a_host_namespace_fails(rt: Runtime, bundle) -> None:
    """config.md Valid values: "Runtimes MUST generate an error when invalid or
    unsupported values are encountered": a net.* knob without a network namespace of
    the container's would be the host's."""
    b = bundle(["true"])
    b.namespaces("pid", "ipc", "uts", "mount")
    b.linux["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "80"}
    refused(rt, b)


@xfail_on("runc", "runc 1.1.5 ignores linux.personality (runc 1.2 applies it)")
def test_personality_linux32(rt: Runtime, bundle) -> None:
    """config-linux.md Personality: "LINUX32 will set the uname system call to show a 32
    bit CPU type, such as i686"."""
    assert os.uname().machine == "x86_64", "the check is for an x86_64 host"
    b = bundle(["uname", "-m"])
    b.linux["personality"] = {"domain": "LINUX32"}
    assert run_ok(rt, b) == "i686\n"


@xfail_on("runc", "runc 1.1.5 ignores linux.personality")
def test_unknown_personality_fails(rt: Runtime, bundle) -> None:
    """config-linux.md Personality: "domain (string, REQUIRED) ... The valid list of
    constants is ... LINUX, LINUX32"; config.md: "Runtimes MUST generate an error when
    invalid or unsupported values are encountered"."""
    b = bundle(["true"])
    b.linux["personality"] = {"domain": "SUNOS"}
    refused(rt, b)


@xfail_on("crun", "crun 1.8.1 fails to create a time namespace (its sync socket resets)")
@xfail_on("runc", "runc 1.1.5 knows no time namespace")
def test_time_offsets(rt: Runtime, bundle) -> None:
    """config-linux.md Offset for Time Namespace: "timeOffsets (object, OPTIONAL) sets
    the offset for Time Namespace"; "secs (int64, OPTIONAL) - is the offset of clock (in
    seconds) in the container": the boot-time clock (/proc/uptime) reads a day later."""
    b = bundle(["cat", "/proc/uptime"])
    b.linux["namespaces"].append({"type": "time"})
    b.linux["timeOffsets"] = {"boottime": {"secs": 86400, "nanosecs": 0}}
    with open("/proc/uptime") as f:
        before = float(f.read().split()[0])
    inside = float(run_ok(rt, b).split()[0])
    with open("/proc/uptime") as f:
        after = float(f.read().split()[0])
    assert before + 86400 <= inside <= after + 86400


@xfail_on("crun", "crun 1.8.1 fails to create a time namespace (its sync socket resets)")
@xfail_on("runc", "runc 1.1.5 knows no time namespace")
def test_time_namespace_is_the_containers(rt: Runtime, bundle) -> None:
    """config-linux.md Namespaces: "time the container will be able to have its own
    clocks"; "If path is not specified, the runtime MUST create a new container
    namespace of type type"."""
    b = bundle(["readlink", "/proc/self/ns/time"])
    b.linux["namespaces"].append({"type": "time"})
    assert run_ok(rt, b).strip() != os.readlink("/proc/self/ns/time")


@xfail_on("crun", "crun 1.8.1 ignores mountLabel without SELinux")
def test_mount_label_without_selinux_fails(rt: Runtime, bundle) -> None:
    """config-linux.md Mount Label: "mountLabel (string, OPTIONAL) will set the Selinux
    context for the mounts in the container"; without SELinux it cannot be."""
    assert not os.path.exists("/sys/fs/selinux/enforce"), "this host has SELinux"
    b = bundle(["true"])
    b.linux["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
    refused(rt, b)


@xfail_on("crun", "crun 1.8.1 ignores intelRdt with only a closID")
@xfail_on("runc", "runc 1.1.5 ignores intelRdt with only a closID")
def test_intel_rdt_without_resctrl_fails(rt: Runtime, bundle) -> None:
    """config-linux.md IntelRdt: "If no mounted resctrl pseudo-filesystem is available in
    the runtime mount namespace, the runtime MUST generate an error"."""
    with open("/proc/self/mountinfo") as f:
        assert " - resctrl " not in f.read(), "this host has resctrl mounted"
    b = bundle(["true"])
    b.linux["intelRdt"] = {"closID": "guaranteed_group"}
    refused(rt, b)
