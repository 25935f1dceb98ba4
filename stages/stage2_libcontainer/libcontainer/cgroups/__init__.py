"""cgroups: how much of the machine a container may use.

Namespaces decide what a container sees; cgroups decide how much it gets: memory
(past the limit, the kernel's OOM killer picks a victim inside the group), pids
(fork fails past the limit), CPU time (the scheduler throttles the group to its
quota in each period). A cgroup is a directory in a special filesystem: make the
directory, write limits into its files, write a pid into `cgroup.procs`.

Two versions of that filesystem exist. v1 (2008) has one tree per controller,
mounted at /sys/fs/cgroup/<controller>; v2 (2016) has one tree for all, at
/sys/fs/cgroup. Hosts with v1 controllers and an empty v2 tree beside them
("hybrid", like the machine this project is developed on) are driven as v1, as runc
does. The same Manager interface hides the difference from everything above.
"""

from __future__ import annotations

import errno
import os
import time

from stages.stage2_libcontainer.libcontainer.errors import os_error

UNIFIED_ROOT = "/sys/fs/cgroup"

# The interface V1Manager and V2Manager both have, declared for type checkers (and
# readers) only: runc loads this module on every call.
TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Protocol

    from stages.stage2_libcontainer.libcontainer.configs import Resources

    class Manager(Protocol):
        version: int
        path: str  # the cgroup path inside the hierarchy, e.g. /whalebones/<id>

        def create(self, resources: Resources) -> None: ...
        def set_pids_limit(self, limit: int) -> None: ...
        def join(self, pid: int) -> None: ...
        def join_files(self) -> list[str]: ...
        def processes(self) -> list[int]: ...
        def oom_killed(self) -> bool: ...
        def freeze(self) -> None: ...
        def thaw(self) -> None: ...
        def destroy(self) -> None: ...
        def hierarchies(self) -> list[tuple[str, str]]: ...


def is_unified(root: str = UNIFIED_ROOT) -> bool:
    """Pure cgroup v2: the root itself is a cgroup2 tree with controllers listed."""
    return os.path.exists(os.path.join(root, "cgroup.controllers"))


def manager(path: str, root: str = UNIFIED_ROOT) -> Manager:
    from stages.stage2_libcontainer.libcontainer.cgroups import v1, v2

    if is_unified(root):
        return v2.V2Manager(path, root)
    return v1.V1Manager(path)


def read_ints(path: str) -> list[int]:
    try:
        with open(path) as f:
            return [int(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def write(path: str, value: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as e:
        raise os_error(f"write {value!r} to {path}", e.errno) from None


def remove(directory: str) -> None:
    """rmdir a cgroup and any cgroups below it, deepest first (a cgroup with children
    cannot be removed; its control files are not real files and go with it).

    It must hold no task; one that has just been killed can take a moment to leave,
    so busy is retried briefly."""
    if not os.path.isdir(directory):
        return
    below = [d for d, _, _ in os.walk(directory, topdown=False)]  # children first
    for d in below:
        for attempt in range(200):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno != errno.EBUSY or attempt == 199:
                    raise os_error(f"remove cgroup {d}", e.errno) from None
                time.sleep(0.005)
