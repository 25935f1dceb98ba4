"""`features`: what this runtime implements, as JSON (the runtime spec's features.md).

    runc features   ->   {"ociVersionMin", "ociVersionMax", "hooks", "mountOptions",
                          "linux": {"namespaces", "capabilities", "cgroup", "seccomp",
                                    "apparmor", "selinux"}, "annotations"}

A caller (containerd, Kubernetes' tooling) reads it to know, before it writes a
config.json, which fields this runtime honours. Every list is read from the code that
does the work, so it cannot claim what libcontainer does not do.
"""

from __future__ import annotations

import json

from shared.flags import Command
from stages.stage2_libcontainer.libcontainer import capabilities, namespaces, rootfs, seccomp
from stages.stage3_containerd.runc.runtime import Runtime, parse

COMMAND = Command("features", "", __doc__.splitlines()[0], [], min_args=0, max_args=0)

HOOKS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop"]


def features() -> dict:
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.0.2",
        "hooks": HOOKS,
        "mountOptions": sorted({*rootfs.FLAGS, *rootfs.PROPAGATION}),
        "linux": {
            "namespaces": sorted(namespaces.FLAGS),
            "capabilities": list(capabilities.NAMES),
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False},
            "seccomp": {"enabled": True, "actions": list(seccomp.ACTIONS),
                        "operators": sorted(seccomp.OPERATORS),
                        "archs": sorted("SCMP_ARCH_" + a for a in seccomp.ARCHITECTURES)},
            # A profile is applied where the kernel has AppArmor; SELinux labels are
            # refused (lsm.py).
            "apparmor": {"enabled": True},
            "selinux": {"enabled": False},
        },
        "annotations": {},
    }


def main(argv: list[str], rt: Runtime) -> int:
    parse(COMMAND, argv)
    print(json.dumps(features(), indent=4))
    return 0
