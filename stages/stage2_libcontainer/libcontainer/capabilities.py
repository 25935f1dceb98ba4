"""Capabilities: root's power, cut into pieces, and most pieces taken away.

Root in a container is still uid 0 on the host (there is no user namespace here).
What keeps it from loading kernel modules or remounting the host's disks is that it
holds only a few of root's ~41 capabilities. Docker's default set (14 of them) is in
shared/oci/defaults.py; here they are applied, in the kernel's terms:

- bounding: the most this process and its descendants can ever gain; dropping from it
  needs CAP_SETPCAP, so it is done first, while we still have everything;
- permitted/effective: what it has and uses now;
- inheritable/ambient: what survives execve of a program without file capabilities.
"""

from __future__ import annotations

from shared.oci.confinement import CAPABILITIES
from stages.stage2_libcontainer.libcontainer import syscalls
from stages.stage2_libcontainer.libcontainer.configs import Capabilities

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:  # (`runc update` loads this module, and not kernel's socket)
    from stages.stage2_libcontainer.libcontainer.kernel import Kernel

NAMES = CAPABILITIES  # every capability, in the kernel's numbering
NUMBERS = {name: i for i, name in enumerate(NAMES)}


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(NAMES) - 1


def mask(names: list[str]) -> int:
    """["CAP_KILL", "CAP_CHOWN"] -> a bit mask (specconv has checked the names)."""
    bits = 0
    for name in names:
        bits |= 1 << NUMBERS[name]
    return bits


def drop_bounding(kernel: Kernel, keep: int) -> None:
    """Remove every capability not in `keep` from the bounding set, for good."""
    for cap in range(last_cap() + 1):
        if not keep & (1 << cap):
            kernel.prctl(syscalls.PR_CAPBSET_DROP, cap, what=f"drop {NAMES[cap]}")


def apply(kernel: Kernel, caps: Capabilities) -> None:
    """Set the process's sets from its config, after setuid().

    For a non-root user the sets survive setuid only because PR_SET_KEEPCAPS was on
    (see process.become); they still do not survive execve: the kernel recomputes
    permitted and effective from the program file's capabilities, which ordinary
    binaries have none of, plus the ambient set. That is why `-u 1000` shows CapEff 0
    in Docker, and why ambient capabilities exist at all.
    """
    effective, permitted = mask(caps.effective), mask(caps.permitted)
    inheritable = mask(caps.inheritable)
    kernel.capset(effective, permitted, inheritable)
    # The kernel refuses an ambient capability that is not both permitted and
    # inheritable; `runc spec` asks for some anyway, and runc only warns. So do we
    # (silently): raise what the kernel allows.
    ambient = mask(caps.ambient) & permitted & inheritable
    for cap in range(last_cap() + 1):
        if ambient & (1 << cap):
            kernel.prctl(syscalls.PR_CAP_AMBIENT, syscalls.PR_CAP_AMBIENT_RAISE, cap,
                         what=f"raise ambient {NAMES[cap]}")
