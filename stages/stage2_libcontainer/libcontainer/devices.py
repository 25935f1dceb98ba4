"""/dev in a container: a fresh tmpfs with only the devices a process needs.

The host's /dev has disks, the kernel's memory and every terminal. A container's /dev
is an empty tmpfs in which a handful of harmless character devices are created, plus
the usual symlinks, and those the spec adds (--device, --privileged). (The device
allow-list, a v1 controller or a v2 eBPF program, refuses opening any other node.)
"""

from __future__ import annotations

import os
import stat

from shared.securejoin import secure_join
from stages.stage2_libcontainer.libcontainer import syscalls
from stages.stage2_libcontainer.libcontainer.configs import Device
from stages.stage2_libcontainer.libcontainer.errors import step

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:  # (`runc update` loads this module, and not kernel's socket)
    from stages.stage2_libcontainer.libcontainer.kernel import Kernel

# Docker's default set.
DEFAULT_DEVICES = [
    Device("/dev/null", "c", 1, 3),
    Device("/dev/zero", "c", 1, 5),
    Device("/dev/full", "c", 1, 7),
    Device("/dev/random", "c", 1, 8),
    Device("/dev/urandom", "c", 1, 9),
    Device("/dev/tty", "c", 5, 0),
]

SYMLINKS = [
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("pts/ptmx", "/dev/ptmx"),  # the container's own devpts instance, not the host's
    ("/proc/kcore", "/dev/core"),
]


def create(kernel: Kernel, rootfs: str, extra: list[Device]) -> None:
    for dev in DEFAULT_DEVICES + extra:
        path = secure_join(rootfs, dev.path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        kind = stat.S_IFBLK if dev.type == "b" else stat.S_IFCHR
        with step(f"create device {path}"):
            if os.path.lexists(path):
                os.unlink(path)
            try:
                kernel.mknod(path, kind | dev.file_mode, os.makedev(dev.major, dev.minor))
            except PermissionError:
                # Where mknod is not allowed (a user namespace: a device node made
                # there would let its root at any disk), bind the host's node. It
                # stays the host's: its owner and mode are not the container's to change.
                open(path, "a").close()
                kernel.mount(dev.path, path, None, syscalls.MS_BIND)
                continue
            kernel.chmod(path, dev.file_mode)
            kernel.chown(path, dev.uid, dev.gid)
    for target, link in SYMLINKS:
        path = secure_join(rootfs, link)
        if link == "/dev/ptmx" and os.path.lexists(path):
            # A privileged container gets the host's nodes, ptmx among them: that one
            # would make ptys in the host's devpts. It is always the container's own.
            os.unlink(path)
        if not os.path.lexists(path):
            with step(f"symlink {path}"):
                os.symlink(target, path)
