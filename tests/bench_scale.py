"""`make bench`, scale part: 100 detached `sleep` containers on stage 4, and on docker.

For each engine: the time to start them all (one `docker run -d` after another), how
many shims and runtime processes are left running, and the host memory per container:
the resident set of its shim (ours: whalebones-shim; docker's: containerd-shim-runc-v2)
and of the container's own process. Then every container is removed and the bench
checks that no shim is left.
"""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import ExitStack

from tests.engines import start_engine

SHIMS = {"stage4": "whalebones-shim", "docker": "containerd-shim-runc-v2"}
RUNTIMES = {"whalebones-runc", "runc"}  # the executable, or the script python runs


def processes() -> list[tuple[int, int, int, str]]:
    """(pid, parent, rss kB, command line) of every live process."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,rss=,stat=,args="], capture_output=True,
                         text=True).stdout
    found = []
    for line in out.splitlines():
        pid, ppid, rss, stat, args = line.split(None, 4)
        if not stat.startswith("Z"):
            found.append((int(pid), int(ppid), int(rss), args))
    return found


def scale(docker: list[str], shim_name: str, count: int, marker: str) -> dict[str, float]:
    start = time.perf_counter()
    ids = []
    for _ in range(count):
        result = subprocess.run([*docker, "run", "-d", "--network", "none", "busybox",
                                 "sleep", marker], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"docker run -d: {result.stderr}")
        ids.append(result.stdout.strip())
    elapsed = time.perf_counter() - start
    try:
        procs = processes()
        wanted = set(ids)
        shims = {pid: rss for pid, _, rss, args in procs
                 if shim_name in args and wanted & set(args.split())}
        sleeps = {pid: (ppid, rss) for pid, ppid, rss, args in procs if args == f"sleep {marker}"}
        runtimes = [args for _, _, _, args in procs
                    if {os.path.basename(word) for word in args.split()[:3]} & RUNTIMES]
        shim_rss = sum(shims.values()) / max(len(shims), 1)
        sleep_rss = sum(rss for _, rss in sleeps.values()) / max(len(sleeps), 1)
        return {
            "containers": len(sleeps),
            "start all (s)": round(elapsed, 1),
            "per container (ms)": round(elapsed * 1000 / count),
            "shims": len(shims),
            "runtime processes": len(runtimes),
            "shim RSS (MB)": round(shim_rss / 1024, 1),
            "host memory per container (MB)": round((shim_rss + sleep_rss) / 1024, 1),
        }
    finally:
        for i in range(0, len(ids), 20):
            subprocess.run([*docker, "rm", "-f", *ids[i:i + 20]], capture_output=True)
        left = [p for p in processes() if f"sleep {marker}" == p[3]]
        if left:
            raise RuntimeError(f"{len(left)} containers left after rm -f")


def bench_scale(stack: ExitStack, count: int, with_docker: bool) -> dict[str, dict]:
    results: dict[str, dict] = {}
    marker = str(900000 + os.getpid() % 1000)  # tells our sleeps from anyone else's
    engine = stack.enter_context(start_engine("stage4"))
    results["stage4"] = scale(["docker", "-H", engine.host], SHIMS["stage4"], count, marker)
    left = [p for p in processes() if "whalebones-shim" in p[3] and str(engine.workdir) in p[3]]
    results["stage4"]["shims left after rm"] = len(left)
    if with_docker:
        ref = stack.enter_context(start_engine("reference"))
        results["docker"] = scale(["docker", "-H", ref.host], SHIMS["docker"], count, marker)
    return results
