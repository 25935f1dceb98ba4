"""Every call into the kernel that sets a container's process up, behind one object.

Init's work is an ordered list of kernel calls: mounts, pivot_root, the hostname,
groups and user, capabilities, no_new_privs, the seccomp filter, execve. The order is
the point (a capability dropped too early makes setuid fail; no_new_privs after execve
is too late; a filter loaded early would have to allow init's own calls), and it
can only be watched from outside with root and a real container. So
init, rootfs.py, devices.py, process.py and capabilities.py make these calls through
a Kernel they are handed; the real one (LINUX, below) passes each straight on, and a
unit test hands in a recording fake and checks the order without root
(tests/unit/test_init_order.py). This is youki's `Syscall` trait, in Python.

Reading and making plain files and directories inside the rootfs (mount points,
/dev's symlinks) is not here: it needs no privilege, and a test can watch it in a
temporary directory.
"""

from __future__ import annotations

import os
import resource
import signal
import socket

from stages.stage2_libcontainer.libcontainer import network, seccomp, syscalls

TYPE_CHECKING = False  # init's modules are loaded by `runc create`; see init.py
if TYPE_CHECKING:
    from stages.stage2_libcontainer.libcontainer.configs import Scheduler, Seccomp


class Kernel:
    def setsid(self) -> None:
        os.setsid()

    def loopback_up(self) -> None:
        network.loopback_up()

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
              data: str = "") -> None:
        syscalls.mount(source, target, fstype, flags, data)

    def setns(self, fd: int, nstype: int, what: str) -> None:
        syscalls.setns(fd, nstype, what)

    def umount2(self, target: str, flags: int) -> None:
        syscalls.umount2(target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        syscalls.pivot_root(new_root, put_old)

    def chroot(self, path: str) -> None:
        os.chroot(path)

    def chdir(self, path: str) -> None:
        os.chdir(path)

    def fchdir(self, fd: int) -> None:
        os.fchdir(fd)

    def sethostname(self, name: str) -> None:
        socket.sethostname(name)

    def write_file(self, path: str, text: str) -> None:
        """A kernel knob: /proc/sys/..., /proc/self/oom_score_adj."""
        with open(path, "w") as f:
            f.write(text)

    def mknod(self, path: str, mode: int, device: int) -> None:
        os.mknod(path, mode, device)

    def chmod(self, path: str, mode: int) -> None:
        os.chmod(path, mode)

    def chown(self, path: str, uid: int, gid: int) -> None:
        os.chown(path, uid, gid)

    def setrlimit(self, limit: int, soft: int, hard: int) -> None:
        resource.setrlimit(limit, (soft, hard))

    def setgroups(self, gids: list[int]) -> None:
        os.setgroups(gids)

    def setgid(self, gid: int) -> None:
        os.setgid(gid)

    def setuid(self, uid: int) -> None:
        os.setuid(uid)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, what: str = "") -> None:
        syscalls.prctl(option, arg2, arg3, what=what)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        syscalls.capset(effective, permitted, inheritable)

    def sched_setattr(self, s: Scheduler) -> None:
        syscalls.sched_setattr(s.policy, s.flags, s.nice, s.priority, s.runtime, s.deadline,
                               s.period)

    def ioprio_set(self, which: int, who: int, ioprio: int) -> None:
        syscalls.ioprio_set(which, who, ioprio)

    def personality(self, persona: int) -> None:
        syscalls.personality(persona)

    def load_seccomp(self, config: Seccomp) -> None:
        seccomp.load(config)

    def default_signals(self) -> None:
        """Every signal back to its default action, none blocked. execve resets a
        signal that has a handler, but one that is ignored stays ignored, and the mask
        stays as it is: without this the container's program would inherit Python's
        SIG_IGN for SIGPIPE and SIGXFSZ (in `yes | head`, `yes` would fail on EPIPE and
        exit 1 instead of dying of SIGPIPE, 141, as every shell pipeline expects), and
        whatever the engine above ignored or blocked (stages 3 and 4 found 32 and 33
        ignored, from containerd's side). SIGKILL and SIGSTOP have no other action."""
        for sig in range(1, signal.NSIG):
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                syscalls.default_action(sig)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())

    def execve(self, path: str, args: list[str], env: dict[str, str]) -> None:
        os.execve(path, args, env)


LINUX = Kernel()
