"""libcontainer, in Python: containers made with the kernel's own calls.

    container.py   the Container API (create, start, exec, signal, destroy)
    configs.py     what a container is to be, as typed objects
    specconv.py    the OCI spec -> a Config, checked field by field before any fork
    init.py        what runs in the forked children (nsexec + init)
    kernel.py      every kernel call init makes, behind one object (fake in tests)
    namespaces.py  unshare and setns
    rootfs.py      mounts, /dev, pivot_root, masked and read-only paths
    cgroups/       limits, v1 and v2 behind one Manager
    capabilities.py, process.py, console.py, network.py, devices.py
    syscalls.py    the ctypes calls the standard library lacks
    errors.py      ContainerError, and errors that name the operation and the path
"""

from stages.stage2_libcontainer.libcontainer.container import Container, Stdio
from stages.stage2_libcontainer.libcontainer.errors import ContainerError


def set_child_subreaper() -> None:
    """Adopt our descendants' orphans: a container's init, whose real parent (the
    intermediate process) exits right after forking it, becomes our child to wait for."""
    # Imported here, not above: it loads ctypes, which `runc start`/`kill`/`delete`
    # (each a new process) never need.
    from stages.stage2_libcontainer.libcontainer import syscalls

    syscalls.prctl(syscalls.PR_SET_CHILD_SUBREAPER, 1, what="child subreaper")


__all__ = ["Container", "ContainerError", "Stdio", "set_child_subreaper"]
