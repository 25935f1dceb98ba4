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
    """shared.libc's set_child_subreaper (see there why), loaded only when called."""
    # Imported here, not above: it loads ctypes (~1.5 ms), which `runc start`/`kill`/
    # `delete` (each a new process) never need.
    from shared import libc

    libc.set_child_subreaper()


__all__ = ["Container", "ContainerError", "Stdio", "set_child_subreaper"]
