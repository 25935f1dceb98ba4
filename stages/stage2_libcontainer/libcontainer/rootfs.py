"""The container's root filesystem: its mounts, then pivot_root into it.

All of this runs inside the container's new mount namespace, so every mount made
here is the container's alone and disappears with it; nothing touches the host's
mount table (propagation to the host is cut first).

Why pivot_root and not chroot: chroot only changes how one process resolves "/";
the old root stays mounted and reachable (a root process can chroot back out with a
classic trick, and every host mount stays in the container's mount table). pivot_root
swaps the root *mount* of the whole mount namespace; after unmounting the old one,
the host's filesystem is simply not there to escape to.

Mounting where the image says. A mount's destination is a path in a tree the image
wrote: /proc may be a symlink, a directory on the way may be one, and (once volumes
share a directory between containers) another container may swap one for a symlink
between the moment a path is resolved and the moment it is mounted on. So, as runc:
the destination is resolved inside the rootfs (secure_join), opened once with
O_PATH|O_NOFOLLOW, checked (the kernel's own name for what was opened must be the
resolved path: runc's fix of CVE-2021-30465), and mounted on through that descriptor,
/proc/self/fd/N, never by its path again (mount_point). proc and sysfs go only on an
ordinary directory, never through a symlink (CVE-2019-19921: an image whose /proc is a
symlink is refused, as runc refuses it).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

from shared.securejoin import secure_join
from stages.stage2_libcontainer.libcontainer import devices, syscalls
from stages.stage2_libcontainer.libcontainer.cgroups import UNIFIED_ROOT, is_unified, v1
from stages.stage2_libcontainer.libcontainer.configs import Config, Mount
from stages.stage2_libcontainer.libcontainer.errors import ContainerError, SyscallError, step
from stages.stage2_libcontainer.libcontainer.syscalls import (
    MNT_DETACH,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    MS_SHARED,
    MS_SLAVE,
    MS_UNBINDABLE,
)

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:  # (`runc update` loads this module, and not kernel's socket)
    from stages.stage2_libcontainer.libcontainer.kernel import Kernel

# option -> (set?, flag), as runc's parseMountOptions
FLAGS = {
    "ro": (True, MS_RDONLY),
    "rw": (False, MS_RDONLY),
    "nosuid": (True, MS_NOSUID),
    "suid": (False, MS_NOSUID),
    "nodev": (True, MS_NODEV),
    "dev": (False, MS_NODEV),
    "noexec": (True, MS_NOEXEC),
    "exec": (False, MS_NOEXEC),
    "sync": (True, syscalls.MS_SYNCHRONOUS),
    "async": (False, syscalls.MS_SYNCHRONOUS),
    "dirsync": (True, syscalls.MS_DIRSYNC),
    "remount": (True, MS_REMOUNT),
    "mand": (True, syscalls.MS_MANDLOCK),
    "nomand": (False, syscalls.MS_MANDLOCK),
    "atime": (False, syscalls.MS_NOATIME),
    "noatime": (True, syscalls.MS_NOATIME),
    "diratime": (False, syscalls.MS_NODIRATIME),
    "nodiratime": (True, syscalls.MS_NODIRATIME),
    "bind": (True, MS_BIND),
    "rbind": (True, MS_BIND | MS_REC),
    "relatime": (True, syscalls.MS_RELATIME),
    "norelatime": (False, syscalls.MS_RELATIME),
    "strictatime": (True, syscalls.MS_STRICTATIME),
    "nostrictatime": (False, syscalls.MS_STRICTATIME),
}
PROPAGATION = {
    "private": MS_PRIVATE,
    "rprivate": MS_PRIVATE | MS_REC,
    "slave": MS_SLAVE,
    "rslave": MS_SLAVE | MS_REC,
    "shared": MS_SHARED,
    "rshared": MS_SHARED | MS_REC,
    "unbindable": MS_UNBINDABLE,
    "runbindable": MS_UNBINDABLE | MS_REC,
}
# statvfs f_flag bits, to keep a mount's nosuid/nodev/noexec when remounting it
_ST_FLAGS = {2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC}


def parse_options(options: list[str]) -> tuple[int, int, str]:
    """-> (mount flags, propagation flags, data string for the filesystem)."""
    flags, propagation, data = 0, 0, []
    for option in options:
        if option in FLAGS:
            set_it, flag = FLAGS[option]
            flags = flags | flag if set_it else flags & ~flag
        elif option in PROPAGATION:
            propagation |= PROPAGATION[option]
        else:
            data.append(option)
    return flags, propagation, ",".join(data)


def _kept_flags(path: str) -> int:
    f_flag = os.statvfs(path).f_flag
    return sum(flag for bit, flag in _ST_FLAGS.items() if f_flag & bit)


def prepare(kernel: Kernel, config: Config) -> None:
    """Everything before pivot_root: propagation, the rootfs bind, the spec's mounts."""
    rootfs = config.rootfs
    propagation = PROPAGATION[config.rootfs_propagation]
    if propagation & MS_UNBINDABLE:
        # An unbindable tree cannot be bound from, and the rootfs and /dev's nodes are
        # binds: private until pivot_root, unbindable after it (pivot).
        propagation = MS_PRIVATE
    # Our mounts must not propagate back to the host (its / is usually "shared").
    kernel.mount(None, "/", None, propagation | MS_REC)
    parent_mount_not_shared(kernel, rootfs, propagation)
    # pivot_root needs the new root to be a mount point: bind it onto itself.
    kernel.mount(rootfs, rootfs, None, MS_BIND | MS_REC)
    destinations = set()
    for m in config.mounts:
        mount_one(kernel, rootfs, sysfs_as_bind(m, config), own_cgroup(config))
        destinations.add(os.path.normpath(m.destination))
    if "/dev" in destinations:
        devices.create(kernel, rootfs, config.devices)


def mount_without_namespace(kernel: Kernel, config: Config) -> None:
    """No mount namespace: the spec's mounts go on the rootfs in the runtime's own
    mount table (and stay there after the container, as runc's do). Nothing of the
    host's propagation is changed, and nothing made read-only or masked: specconv
    refuses a spec that asks for that without a mount namespace."""
    destinations = set()
    for m in config.mounts:
        mount_one(kernel, config.rootfs, m, own_cgroup(config))
        destinations.add(os.path.normpath(m.destination))
    if "/dev" in destinations:
        devices.create(kernel, config.rootfs, config.devices)


def parent_mount_not_shared(kernel: Kernel, rootfs: str, propagation: int) -> None:
    """The mount the rootfs sits on, made private (or slave) in this namespace, as
    runc's rootfsParentMountPropagation: pivot_root refuses (EINVAL) a new root whose
    parent mount is shared, and a bind of the rootfs under a shared parent would
    propagate to the host. Needed when a `:rshared` bind asked for a shared root: the
    root becomes shared only after pivot_root (pivot)."""
    flag = MS_SLAVE if propagation & MS_SLAVE else MS_PRIVATE
    path = rootfs
    while True:
        try:
            kernel.mount(None, path, None, flag)
            return
        except OSError as e:
            # EINVAL: not a mount point; the one it is on is further up
            if e.errno != errno.EINVAL or path == "/":
                raise
            path = os.path.dirname(path)


def sysfs_as_bind(m: Mount, config: Config) -> Mount:
    """A sysfs mount, as a bind of the host's /sys when it cannot be mounted: the
    kernel lets the root of a user namespace mount sysfs only for a network namespace
    that namespace owns (sysfs shows the network devices of its mounter's netns). In
    a user namespace without a network namespace of its own, the host's /sys is bound
    instead, read-only, as crun and Docker (moby's oci_linux.go) do; runc fails."""
    if m.type != "sysfs" or not config.has_namespace("user") \
            or "network" in config.new_namespaces():
        return m
    return Mount(m.destination, "bind", "/sys", ["rbind", *m.options])


def own_cgroup(config: Config) -> str | None:
    """The container's cgroup path, when it has no cgroup namespace of its own
    (`--cgroupns host`), or is in a user namespace on cgroup v1 (whose hierarchies
    only host root may mount: the container's own directories are bound instead, as
    runc always does on v1); None when a new mount will do."""
    if "cgroup" in config.new_namespaces() and not (config.has_namespace("user")
                                                     and not is_unified()):
        return None
    return "/" + (config.cgroups_path or "").strip("/")


def mount_one(kernel: Kernel, rootfs: str, m: Mount, cgroup: str | None = None) -> None:
    flags, propagation, data = parse_options(m.options)
    kind = m.type or ("bind" if flags & MS_BIND else "")
    if kind in ("proc", "sysfs"):
        check_ordinary_directory(rootfs, m.destination, kind)
    dest = secure_join(rootfs, m.destination)
    if kind == "cgroup" or kind == "cgroup2":
        mount_cgroups(kernel, rootfs, dest, flags, cgroup)
    elif flags & MS_BIND or kind == "bind":
        with step(f"stat bind mount source {m.source}"):
            is_dir = stat.S_ISDIR(os.stat(m.source).st_mode)
        # The mount point must be of the source's kind: a directory or a file.
        with step(f"create mount point {dest}"):
            if is_dir:
                os.makedirs(dest, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                if not os.path.exists(dest):
                    open(dest, "a").close()
        with mount_point(rootfs, dest) as target:
            kernel.mount(m.source, target, None, MS_BIND | (flags & MS_REC))
        extra = flags & ~(MS_BIND | MS_REC | MS_REMOUNT)
        if extra:  # a bind mount takes its flags only on a remount
            with mount_point(rootfs, dest) as target:  # reopened: now the new mount
                kernel.mount(None, target, None,
                             MS_BIND | MS_REMOUNT | extra | _kept_flags(target))
    else:
        with step(f"create mount point {dest}"):
            os.makedirs(dest, exist_ok=True)
        with mount_point(rootfs, dest) as target:
            kernel.mount(m.source or kind, target, kind, flags, data)
    if propagation:
        with mount_point(rootfs, dest) as target:
            kernel.mount(None, target, None, propagation)


def check_ordinary_directory(rootfs: str, destination: str, kind: str) -> None:
    """proc and sysfs only on a directory of the image's, never through a symlink
    (runc's check since CVE-2019-19921, in its words). Looked at lexically: resolving
    the symlink, as secure_join would, is the very thing refused."""
    path = os.path.join(rootfs, os.path.normpath("/" + destination).lstrip("/"))
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return  # made below, as a directory
    if not stat.S_ISDIR(st.st_mode):
        raise ContainerError(f'mount {kind} on {destination}: filesystem "{kind}" must be '
                             "mounted on ordinary directory")


@contextmanager
def mount_point(rootfs: str, dest: str) -> Iterator[str]:
    """`dest` (resolved inside `rootfs` by secure_join), opened once: yields the
    /proc/self/fd/N path that mount(2) follows to exactly that inode.

    O_PATH opens nothing (no device, no FIFO) and O_NOFOLLOW keeps a last component
    swapped for a symlink from being followed; a directory on the way swapped for one
    would still lead elsewhere, which the kernel's name for the opened file then shows
    (runc's WithProcfd). Errors name `dest`, not the descriptor."""
    with step(f"open mount point {dest}"):
        fd = os.open(dest, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    target = f"/proc/self/fd/{fd}"
    try:
        expected = os.path.normpath(os.path.join(os.path.realpath(rootfs),
                                                    os.path.relpath(dest, rootfs)))
        actual = os.readlink(target)
        if actual != expected or stat.S_ISLNK(os.fstat(fd).st_mode):
            raise ContainerError(f"mount on {dest}: it resolves to {actual}, not inside the "
                                 "rootfs as resolved: possibly malicious path, refused")
        try:
            yield target
        except SyscallError as e:
            raise SyscallError(e.errno, str(e.strerror).replace(target, dest)) from None
    finally:
        os.close(fd)


def mount_cgroups(kernel: Kernel, rootfs: str, dest: str, flags: int,
                  own: str | None = None) -> None:
    """/sys/fs/cgroup inside: the container's own cgroup, as its root.

    Mounted after the cgroup namespace was entered, a cgroup filesystem shows the
    container's cgroup as its top: the container can read its own limits and no more.
    On v1, the hierarchies go inside a tmpfs of ours, where the image has no say.
    Without a cgroup namespace (`own`: the container's cgroup path) a new mount would
    show the host's whole tree: the container's own directories are bound instead, as
    runc does.
    """
    os.makedirs(dest, exist_ok=True)
    with mount_point(rootfs, dest) as target:
        if is_unified():
            if own is None:
                kernel.mount("cgroup2", target, "cgroup2", flags)
                return
            kernel.mount(UNIFIED_ROOT + own, target, None, MS_BIND)
        else:
            kernel.mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                         "mode=755")
    if is_unified():
        # A bind takes its flags only from a remount (of the new mount, so by its
        # path: the descriptor is of the directory under it): read-only, or root
        # inside could raise its own limits.
        kernel.mount(None, dest, None, MS_BIND | MS_REMOUNT | flags)
        return
    for mnt in sorted(set(v1.mounted_hierarchies().values())):
        name = os.path.basename(mnt)
        controllers = ",".join(c for c in name.split(",") if c in v1.WANTED) or name
        target = os.path.join(dest, name)
        os.makedirs(target, exist_ok=True)
        if own is not None:
            kernel.mount(mnt + own, target, None, MS_BIND)
            # A bind takes its flags only from a remount: read-only, or root inside
            # could raise its own limits.
            kernel.mount(None, target, None, MS_BIND | MS_REMOUNT | flags)
        else:
            kernel.mount("cgroup", target, "cgroup", flags, controllers)
    kernel.mount(None, dest, None, MS_BIND | MS_REMOUNT | MS_RDONLY | _kept_flags(dest))


def pivot(kernel: Kernel, rootfs: str, propagation: str = "rprivate") -> None:
    """Make rootfs the root of this mount namespace and drop the old root entirely.

    pivot_root(".", ".") stacks the old root on top of the new one at "/"; unmounting
    "." (lazily: the host's mounts below are busy) then takes the old root away.
    """
    # A handle on the old root: after pivot_root, "." (our cwd, the new root's top)
    # names the new root, not the old one stacked on it (path lookup does not climb
    # onto a mount for "."), so runc goes back into the old root by descriptor first.
    old_root = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    try:
        kernel.chdir(rootfs)
        kernel.pivot_root(".", ".")
        kernel.fchdir(old_root)
    finally:
        os.close(old_root)
    # The old root's tree, and only it, made slave: its unmount must not reach the
    # host (and the container's own mounts keep their propagation: an rshared bind).
    kernel.mount(None, ".", None, MS_SLAVE | MS_REC)
    kernel.umount2(".", MNT_DETACH)
    kernel.chdir("/")
    # A shared root (for an `rshared` bind) only now: made shared before pivot_root,
    # it would have been the host's peer (and pivot_root refuses a shared parent).
    flags = PROPAGATION[propagation]
    if not flags & (MS_PRIVATE | MS_SLAVE):
        kernel.mount(None, "/", None, flags)


def finish(kernel: Kernel, config: Config) -> None:
    """After pivot_root: hide and freeze the kernel's sensitive files, sysctls, ro root."""
    for key, value in config.sysctl.items():
        with step(f"set sysctl {key}={value}"):
            kernel.write_file("/proc/sys/" + key.replace(".", "/"), value)
    for path in config.readonly_paths:
        readonly(kernel, path)
    for path in config.masked_paths:
        mask(kernel, path)
    if config.readonly_rootfs:
        kernel.mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | _kept_flags("/"))


def readonly(kernel: Kernel, path: str) -> None:
    """Bind a path over itself, then remount that bind read-only (/proc/sys...)."""
    if not os.path.exists(path):
        return
    kernel.mount(path, path, None, MS_BIND | MS_REC)
    kernel.mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | _kept_flags(path))


def mask(kernel: Kernel, path: str) -> None:
    """Hide a path: /dev/null over a file, an empty read-only tmpfs over a directory
    (/proc/kcore is the kernel's memory, /proc/keys the host's keyrings...)."""
    if not os.path.lexists(path):
        return
    if os.path.isdir(path):
        kernel.mount("tmpfs", path, "tmpfs", MS_RDONLY)
    else:
        kernel.mount("/dev/null", path, None, MS_BIND)
