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
from stages.stage2_libcontainer.libcontainer.configs import Device, DeviceRule
from stages.stage2_libcontainer.libcontainer.errors import ContainerError, step

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

# What runc allows every container in the device cgroup, after the spec's own rules
# (runc 1.2's specconv.AllowedDevices): making any node (m), and using the default
# devices and the container's ptys. The spec requires the default devices to be
# usable, so a bundle whose linux.resources.devices only says "deny all" (as `runc
# spec` writes) still gets them. (runc 1.1 also allowed /dev/net/tun; 1.2 dropped it,
# and so does Docker's own list.)
ALLOWED_RULES = [
    DeviceRule(True, "c", -1, -1, "m"),
    DeviceRule(True, "b", -1, -1, "m"),
    *(DeviceRule(True, "c", d.major, d.minor, "rwm") for d in DEFAULT_DEVICES),
    DeviceRule(True, "c", 136, -1, "rwm"),  # /dev/pts/*
    DeviceRule(True, "c", 5, 2, "rwm"),  # /dev/ptmx
]
# The spec's device types as the device cgroup (and mknod) know them: "u" is an
# unbuffered character device, which Linux does not tell apart; a FIFO (p) is no
# device to the cgroup at all.
NODE_TYPES = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}


def allowed_rules(rules: list[DeviceRule], devices: list[Device]) -> list[DeviceRule]:
    """The cgroup's device rules for a container: the spec's, then runc's defaults, then
    each linux.devices entry the spec's rules do not name ("devices that MUST be
    available in the container"). An entry its rules name keeps their access (Docker's
    --device /dev/x:/dev/x:r says r). No rules at all: nothing is restricted, nothing
    to add."""
    if not rules:
        return rules
    extra = []
    for d in devices:
        kind = "b" if d.type == "b" else "c"
        named = any(r.type == kind and (r.major, r.minor) == (d.major, d.minor) for r in rules)
        if d.type != "p" and not named:
            extra.append(DeviceRule(True, kind, d.major, d.minor, "rwm"))
    return rules + ALLOWED_RULES + extra


def _check_replaceable(path: str, dev: Device) -> None:
    """The spec: "If a file already exists at path that does not match the requested
    device, the runtime MUST generate an error". The same node may be made again."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    same_type = stat.S_IFMT(st.st_mode) == NODE_TYPES[dev.type]
    if same_type and (dev.type == "p" or st.st_rdev == os.makedev(dev.major, dev.minor)):
        os.unlink(path)
        return
    raise ContainerError(f"create device {dev.path}: a file that is not this device is there")


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
        kind = NODE_TYPES[dev.type]
        _check_replaceable(path, dev)
        with step(f"create device {path}"):
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
