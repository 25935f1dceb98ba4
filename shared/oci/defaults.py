"""Docker's defaults for every container, as an OCI runtime spec (moby's oci/defaults.go).

The daemon starts from this and fills in what each container asks for: the command,
env, user, hostname, limits, the rootfs path.
"""

from __future__ import annotations

import os

# Root in a container keeps 14 of the kernel's ~41 capabilities: enough to run
# ordinary programs as root (chown files, bind port 80, send signals to its own
# processes), not enough to load modules, mount filesystems or reconfigure the host.
DEFAULT_CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]

# Docker's default seccomp profile (the system calls a container may make) is data,
# too long to keep here: seccomp_default.json, resolved for each container by
# runtime_spec.seccomp_policy into the spec's linux.seccomp.

# Files in /proc and /sys that leak the host's secrets or state (the kernel's memory,
# its keyrings, timers that time other tenants, interrupt and power counters that
# let a container watch another's activity: GHSA-6fw5-f8r9-fgfm, GHSA-jq35-85cj-fj4p):
# hidden behind /dev/null or a tmpfs. moby's oci/defaults.go list, in its order.
MASKED_PATHS = [
    "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
    "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list",
    "/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware",
]


def _thermal_throttle() -> list[str]:
    """Each CPU's thermal_throttle counters, which this kernel has (moby masks them
    too, for the same advisory), in CPU order."""
    # os.listdir, not glob: every `runc create` loads this module (through
    # capabilities), and glob's import is ~0.4 ms of it (medians of 40 pairs).
    cpus = "/sys/devices/system/cpu"
    try:
        names = os.listdir(cpus)
    except FileNotFoundError:
        return []
    numbers = sorted(int(n[3:]) for n in names if n.startswith("cpu") and n[3:].isdigit())
    found = (f"{cpus}/cpu{i}/thermal_throttle" for i in numbers)
    return [path for path in found if os.path.isdir(path)]


MASKED_PATHS += _thermal_throttle()

# Files through which root could reconfigure the host kernel: visible, read-only.
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

# The devices cgroup (v1) decides which device nodes may be opened at all, whatever
# files exist: a container that mknods /dev/sda still cannot read the host's disk.
# (The nodes themselves, null, zero, full, random, urandom and tty, are not listed in
# linux.devices: the OCI spec makes them implicit, and the runtime always creates them.)
DEFAULT_DEVICES_CGROUP = [
    # Deny everything, then allow mknod of any node and use of the harmless ones.
    {"allow": False, "access": "rwm"},
    {"allow": True, "type": "c", "access": "m"},
    {"allow": True, "type": "b", "access": "m"},
    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},  # null
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},  # zero
    {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"},  # full
    {"allow": True, "type": "c", "major": 1, "minor": 8, "access": "rwm"},  # random
    {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},  # urandom
    {"allow": True, "type": "c", "major": 5, "minor": 0, "access": "rwm"},  # tty
    {"allow": True, "type": "c", "major": 5, "minor": 1, "access": "rwm"},  # console
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},  # ptmx
    {"allow": True, "type": "c", "major": 136, "access": "rwm"},  # pts/*
    {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"},  # net/tun
]


def default_spec() -> dict:
    """A fresh spec (callers change it freely)."""
    caps = list(DEFAULT_CAPABILITIES)
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": [],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "capabilities": {
                "bounding": caps,
                "effective": list(caps),
                "permitted": list(caps),
                # Empty since Docker 20.10.14 (CVE-2022-24769): with the set filled, a
                # program with inheritable file capabilities gained them at execve.
                "inheritable": [],
            },
            # Off, as Docker's default: a setuid binary in the image (su, ping) still
            # gains its owner's rights at execve, within the bounding set.
            # `--security-opt no-new-privileges` turns it on (runtime_spec.build).
            "noNewPrivileges": False,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "",
        # What every Linux program expects to find: /proc and /sys (read-only: they are
        # the host kernel's knobs), a private /dev on tmpfs with its own devpts (ptys of
        # its own), POSIX shared memory (64 MB) and message queues, and a read-only view
        # of its own cgroup.
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                         "gid=5"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["ro", "nosuid", "noexec", "nodev"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        ],
        "linux": {
            # A new instance of everything but the user namespace: root inside is root
            # on the host, held back by the capability drop, masks and cgroups.
            "namespaces": [{"type": t} for t in
                           ("pid", "network", "ipc", "uts", "mount", "cgroup")],
            "devices": [],
            "maskedPaths": list(MASKED_PATHS),
            "readonlyPaths": list(READONLY_PATHS),
            "resources": {"devices": [dict(r) for r in DEFAULT_DEVICES_CGROUP]},
        },
    }
