"""`docker top`: the host's `ps`, kept to the processes of one container.

The daemon does not look inside the container. It asks its executor which host pids
are in the container's cgroup (every era can answer: LXC's cgroup in stage 1,
libcontainer's in stage 2, containerd's Tasks.Pids, which asks the shim and runc, in
stages 3 and 4), runs the host's own `ps` with the client's options, and keeps the
lines whose PID column is one of them. The pids are the host's, not the ones the
container sees (its init is pid 1 only inside its pid namespace).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable

from shared.errors import EngineError


def processes(pids: Iterable[int], ps_args: str = "") -> dict:
    """{"Titles": [...], "Processes": [[...], ...]}, as the Engine API returns them."""
    wanted = {str(pid) for pid in pids}
    result = subprocess.run(["ps", *(ps_args.split() or ["-ef"])], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise EngineError(f"Error running ps: {result.stderr.strip() or result.returncode}")
    header, *lines = result.stdout.splitlines()
    titles = header.split()
    if "PID" not in titles:
        raise EngineError("Couldn't find PID field in ps output")
    column = titles.index("PID")
    found = []
    for line in lines:
        # The last column (the command) may hold spaces: split the others only.
        fields = line.split(None, len(titles) - 1)
        if len(fields) > column and fields[column] in wanted:
            found.append(fields)
    return {"Titles": titles, "Processes": found}
