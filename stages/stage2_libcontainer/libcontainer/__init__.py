"""libcontainer, in Python: containers made with the kernel's own calls.

    container.py   the Container API (create, start, exec, signal, destroy)
    configs.py     what a container is to be, as typed objects
    record.py      the @dataclass configs.py runs with (dataclasses' import costs runc ~15 ms)
    specconv.py    the OCI spec -> a Config, checked field by field before any fork
    init.py        what runs in the forked children (nsexec + init)
    kernel.py      every kernel call init makes, behind one object (fake in tests)
    namespaces.py  unshare and setns
    rootfs.py      mounts, /dev, pivot_root, masked and read-only paths
    cgroups/       limits, v1 and v2 behind one Manager
    capabilities.py, process.py, console.py, network.py, devices.py
    syscalls.py    the ctypes calls the standard library lacks
    errors.py      ContainerError, and errors that name the operation and the path

`TYPE_CHECKING = False`, not `from typing import TYPE_CHECKING`: the standard
library's own idiom, so that the imports only type checkers need cost nothing.
runc loads these modules in a new process for every verb, and nothing else it loads
imports `typing`: it would add ~2 ms to each (1.7-2.1 ms measured with python3 -I -S
-X importtime for state, kill, delete, start, create and exec, beside what each
imports anyway). Stage 2's daemon, long-lived, would not notice.
"""

from stages.stage2_libcontainer.libcontainer.container import Container, Stdio
from stages.stage2_libcontainer.libcontainer.errors import ContainerError

__all__ = ["Container", "ContainerError", "Stdio"]
