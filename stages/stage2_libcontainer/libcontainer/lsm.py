"""Linux security modules: AppArmor profiles (and SELinux labels, which are refused).

An LSM adds its own rules on top of the kernel's permissions. AppArmor confines a
program by a profile, chosen per process: writing "exec <profile>" into
/proc/self/attr/apparmor/exec has the kernel switch to that profile at the next
execve, so init asks for it just before it runs the container's program, and
nothing of init itself runs confined.

A spec that names a profile on a kernel without AppArmor (or a label without
SELinux) cannot be honoured: it is refused, as runc refuses it, rather than the
container running unconfined while its config says otherwise.
"""

from __future__ import annotations

import os

from stages.stage2_libcontainer.libcontainer.errors import step

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from stages.stage2_libcontainer.libcontainer.kernel import Kernel


def apparmor_enabled() -> bool:
    """runc's test: securityfs shows AppArmor and the module says it is on."""
    if not os.path.exists("/sys/kernel/security/apparmor"):
        return False
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            return f.read(1) == "Y"
    except OSError:
        return False


def selinux_enabled() -> bool:
    """selinuxfs is mounted (and so SELinux is on) where the kernel has it."""
    return os.path.exists("/sys/fs/selinux/enforce")


def apply_apparmor(kernel: Kernel, profile: str) -> None:
    """Ask for `profile` from the next execve on (newer kernels' per-LSM file first)."""
    if not profile:
        return
    path = "/proc/self/attr/apparmor/exec"
    if not os.path.exists(path):
        path = "/proc/self/attr/exec"
    with step(f"apparmor: set profile {profile}"):
        kernel.write_file(path, f"exec {profile}")
