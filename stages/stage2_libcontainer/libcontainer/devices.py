"""/dev in a container: a fresh tmpfs with only the devices a process needs.

The host's /dev has disks, the kernel's memory and every terminal. A container's /dev
is an empty tmpfs in which a handful of harmless character devices are created, plus
the usual symlinks. (The devices cgroup, v1, also refuses opening any other node.)
"""

from __future__ import annotations

import os
import stat

from shared.securejoin import secure_join
from stages.stage2_libcontainer.libcontainer import syscalls
from stages.stage2_libcontainer.libcontainer.errors import step

# Docker's default set: path, major, minor.
DEFAULT_DEVICES = [
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
]

SYMLINKS = [
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("pts/ptmx", "/dev/ptmx"),  # the container's own devpts instance, not the host's
    ("/proc/kcore", "/dev/core"),
]


def create(rootfs: str, extra: list[dict]) -> None:
    devices = [{"path": p, "type": "c", "major": ma, "minor": mi, "fileMode": 0o666}
               for p, ma, mi in DEFAULT_DEVICES]
    devices += extra
    for dev in devices:
        path = secure_join(rootfs, dev["path"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        kind = stat.S_IFBLK if dev.get("type") == "b" else stat.S_IFCHR
        mode = dev.get("fileMode", 0o666)
        with step(f"create device {path}"):
            if os.path.lexists(path):
                os.unlink(path)
            try:
                os.mknod(path, kind | mode, os.makedev(dev["major"], dev["minor"]))
            except PermissionError:
                # Where mknod is not allowed (a user namespace), bind the host's node.
                open(path, "a").close()
                syscalls.mount(dev["path"], path, None, syscalls.MS_BIND)
            os.chmod(path, mode)
            os.chown(path, dev.get("uid", 0), dev.get("gid", 0))
    for target, link in SYMLINKS:
        path = secure_join(rootfs, link)
        if not os.path.lexists(path):
            with step(f"symlink {path}"):
                os.symlink(target, path)
