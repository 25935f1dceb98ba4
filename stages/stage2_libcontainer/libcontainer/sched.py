"""How the kernel schedules the container's process: CPU policy, I/O priority, and
the personality (which machine `uname` says it is).

These are per-process attributes, kept across fork and execve: init sets them on
itself just before it runs the container's program, while it still has the
capabilities some of them need (a real-time policy or a negative nice value takes
CAP_SYS_NICE; an I/O class of RT takes CAP_SYS_ADMIN), as runc does.
"""

from __future__ import annotations

from stages.stage2_libcontainer.libcontainer.errors import step

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from stages.stage2_libcontainer.libcontainer.configs import IOPriority, Scheduler
    from stages.stage2_libcontainer.libcontainer.kernel import Kernel

# process.scheduler.policy -> the kernel's number (include/uapi/linux/sched.h)
POLICIES = {"SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3,
            "SCHED_ISO": 4, "SCHED_IDLE": 5, "SCHED_DEADLINE": 6}
FLAGS = {"SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02,
         "SCHED_FLAG_DL_OVERRUN": 0x04, "SCHED_FLAG_KEEP_POLICY": 0x08,
         "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
         "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40}
# process.ioPriority.class -> include/uapi/linux/ioprio.h's class
IO_CLASSES = {"IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3}
IOPRIO_CLASS_SHIFT = 13  # the class sits above the 13 bits of the level
IOPRIO_WHO_PGRP = 2  # the spec: "applied to the entire process group"
# linux.personality.domain -> personality(2)'s
PERSONALITIES = {"LINUX": 0x0000, "LINUX32": 0x0008}


def set_scheduler(kernel: Kernel, scheduler: Scheduler | None) -> None:
    if scheduler is not None:
        kernel.sched_setattr(scheduler)


def set_io_priority(kernel: Kernel, io: IOPriority | None) -> None:
    """The process group is init's own (it called setsid): the container's processes."""
    if io is not None:
        with step("ioprio_set"):
            kernel.ioprio_set(IOPRIO_WHO_PGRP, 0,
                              io.io_class << IOPRIO_CLASS_SHIFT | io.priority)


def set_personality(kernel: Kernel, domain: int | None) -> None:
    """LINUX32: `uname -m` says i686 on x86_64, for 32-bit builds that ask."""
    if domain is not None:
        kernel.personality(domain)
