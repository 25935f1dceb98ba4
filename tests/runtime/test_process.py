"""config.md Process: POSIX process (rlimits) and Linux process (oomScoreAdj,
apparmorProfile, scheduler, ioPriority, selinuxLabel), seen from inside the container."""

from __future__ import annotations

import os

from tests.runtime.conftest import Runtime, refused, run_ok, xfail_on


def test_rlimits_soft_and_hard(rt: Runtime, bundle) -> None:
    """config.md rlimits: "soft ... rlim.rlim_cur MUST match the configured value";
    "hard ... rlim.rlim_max MUST match the configured value"."""
    b = bundle(["sh", "-c", "ulimit -Sn; ulimit -Hn; ulimit -Sc; ulimit -Hc"])
    b.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654},
        {"type": "RLIMIT_CORE", "soft": 4096, "hard": 8192},  # ulimit -c: 512-byte blocks
    ]
    assert run_ok(rt, b).split() == ["321", "654", "8", "16"]


def test_unknown_rlimit_fails(rt: Runtime, bundle) -> None:
    """config.md rlimits: "The runtime MUST generate an error for any values which
    cannot be mapped to a relevant kernel interface"."""
    b = bundle(["true"])
    b.config["process"]["rlimits"] = [{"type": "RLIMIT_NOSUCH", "soft": 1, "hard": 1}]
    refused(rt, b)


def test_duplicated_rlimits_fail(rt: Runtime, bundle) -> None:
    """config.md rlimits: "If rlimits contains duplicated entries with same type, the
    runtime MUST generate an error"."""
    b = bundle(["true"])
    b.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 100},
                                      {"type": "RLIMIT_NOFILE", "soft": 200, "hard": 200}]
    refused(rt, b)


def test_oom_score_adj_set(rt: Runtime, bundle) -> None:
    """config.md oomScoreAdj: "If oomScoreAdj is set, the runtime MUST set
    oom_score_adj to the given value"."""
    b = bundle(["cat", "/proc/self/oom_score_adj"])
    b.config["process"]["oomScoreAdj"] = 123
    assert run_ok(rt, b) == "123\n"


def test_oom_score_adj_unset_is_unchanged(rt: Runtime, bundle) -> None:
    """config.md oomScoreAdj: "If oomScoreAdj is not set, the runtime MUST NOT change the
    value of oom_score_adj": the container's is the runtime's caller's (ours)."""
    b = bundle(["cat", "/proc/self/oom_score_adj"])
    with open("/proc/self/oom_score_adj") as f:
        ours = f.read()
    assert run_ok(rt, b) == ours


def test_apparmor_profile_without_apparmor_fails(rt: Runtime, bundle) -> None:
    """config.md apparmorProfile: "specifies the name of the AppArmor profile for the
    process"; on this host's kernel AppArmor is off, so it cannot be applied: Create
    "MUST generate an error"."""
    assert not os.path.exists("/sys/kernel/security/apparmor"), "this host has AppArmor"
    b = bundle(["true"])
    b.config["process"]["apparmorProfile"] = "docker-default"
    refused(rt, b)


def test_selinux_label_without_selinux_fails(rt: Runtime, bundle) -> None:
    """config.md selinuxLabel: "specifies the SELinux label for the process"; without
    SELinux it cannot be applied: Create "MUST generate an error"."""
    assert not os.path.exists("/sys/fs/selinux/enforce"), "this host has SELinux"
    b = bundle(["true"])
    b.config["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0"
    refused(rt, b)


@xfail_on("crun", "crun 1.8.1 ignores process.scheduler")
@xfail_on("runc", "runc 1.1.5 ignores process.scheduler (runc 1.2 applies it)")
def test_scheduler_policy_and_nice(rt: Runtime, bundle) -> None:
    """config.md scheduler: "policy (string, REQUIRED) represents the scheduling policy";
    "nice (int32, OPTIONAL) is the nice value for the process"."""
    b = bundle(["sh", "-c", "grep '^policy' /proc/self/sched | tr -d ' '; "
                "cut -d' ' -f19 /proc/self/stat"])
    b.config["process"]["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
    assert run_ok(rt, b).split() == ["policy:3", "7"]  # SCHED_BATCH is policy 3


@xfail_on("crun", "crun 1.8.1 ignores process.scheduler")
@xfail_on("runc", "runc 1.1.5 ignores process.scheduler (runc 1.2 applies it)")
def test_scheduler_the_kernel_refuses_fails(rt: Runtime, bundle) -> None:
    """config.md scheduler: "priority ... used by real-time policies like SCHED_FIFO and
    SCHED_RR"; runtime.md Create: a property that cannot be applied "MUST generate an
    error". This host's kernel groups real-time CPU time by cgroup (cpu.rt_runtime_us),
    and the container's cgroup has none to give: SCHED_RR is refused."""
    assert os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"), "no RT group scheduling"
    b = bundle(["true"])
    b.config["process"]["scheduler"] = {"policy": "SCHED_RR", "priority": 10}
    refused(rt, b)


@xfail_on("crun", "crun 1.8.1 ignores process.scheduler")
@xfail_on("runc", "runc 1.1.5 ignores process.scheduler (runc 1.2 checks it)")
def test_scheduler_nice_with_a_real_time_policy_fails(rt: Runtime, bundle) -> None:
    """config.md Valid values: "Runtimes MUST generate an error when invalid or
    unsupported values are encountered": sched_setattr(2) takes a nice value only for
    SCHED_OTHER and SCHED_BATCH."""
    b = bundle(["true"])
    b.config["process"]["scheduler"] = {"policy": "SCHED_FIFO", "nice": 5}
    refused(rt, b)


@xfail_on("crun", "crun 1.8.1 ignores process.ioPriority")
@xfail_on("runc", "runc 1.1.5 ignores process.ioPriority (runc 1.2 applies it)")
def test_io_priority(rt: Runtime, bundle) -> None:
    """config.md ioPriority: "class (string, REQUIRED) specifies the I/O scheduling
    class"; "priority (int, REQUIRED) specifies the priority level within the class";
    "applied to the entire process group": a child sees it too."""
    b = bundle(["sh", "-c", "ionice -p $$; sh -c 'ionice -p $$'"])
    b.config["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    assert run_ok(rt, b).splitlines() == ["best-effort: prio 6"] * 2
