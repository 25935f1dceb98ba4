"""`make bench`, scale part: 100 detached `sleep` containers on stage 4, and on docker.

For each engine: the time to start them all (one `docker run -d` after another), how
many shims and runtime processes are left running, and the memory each container costs:

- the host's used memory (MemTotal - MemAvailable in /proc/meminfo) before the first
  container and after the last, divided by their number: everything a container costs,
  its shim, its process, the kernel's share (page tables, cgroups, mounts) and whatever
  the daemons grew by. The number the issue's aim is about, and the noisiest: any
  other program's memory that comes or goes meanwhile counts too (a quiet machine).
- its shim (ours: whalebones-shim; docker's: containerd-shim-runc-v2), three ways, from
  /proc/PID/smaps_rollup. RSS counts every page the process maps, the pages of libpython
  or of the Go runtime shared with 99 other shims included: added up over the shims it
  counts those 100 times. USS (the private pages: Private_Clean + Private_Dirty) is what
  one more shim adds, what killing it would give back. PSS shares each shared page
  among the processes that map it: summed over all processes it is the real total.
- the container's own process, the same three ways.

Then every container is removed and the bench checks that no shim is left. And our
shim's start on its own: how long containerd waits for its first process to exit.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack

from tests.engines import REPO, start_engine

SHIMS = {"stage4": "whalebones-shim", "docker": "containerd-shim-runc-v2"}
RUNTIMES = {"whalebones-runc", "runc"}  # the executable, or the script python runs
MiB = 1024  # smaps and meminfo count in kB


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


def used_memory() -> int:
    """The host's used memory in kB: what is not available to a new program."""
    fields = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, value = line.split(":")
            fields[key] = int(value.split()[0])
    return fields["MemTotal"] - fields["MemAvailable"]


def memory(pid: int) -> dict[str, int]:
    """rss, pss and uss of one process, in kB (all 0 if it is gone)."""
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if rest.strip().endswith("kB"):
                    fields[key] = int(rest.split()[0])
    except OSError:
        pass
    return {"rss": fields.get("Rss", 0), "pss": fields.get("Pss", 0),
            "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)}


def mean_mib(samples: list[dict[str, int]], key: str) -> float:
    return round(sum(s[key] for s in samples) / max(len(samples), 1) / MiB, 2)


def settle() -> int:
    """Used memory once the last starts have finished their work (the runtime
    processes gone, the shims idle): the lowest of a few readings a second apart."""
    readings = []
    for _ in range(3):
        time.sleep(1)
        readings.append(used_memory())
    return min(readings)


def scale(docker: list[str], shim_name: str, count: int, marker: str,
          workdir: str) -> dict[str, float]:
    before = settle()
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
        after = settle()
        procs = processes()
        wanted = set(ids)
        shims = [memory(pid) for pid, _, _, args in procs
                 if shim_name in args and wanted & set(args.split())]
        sleeps = [memory(pid) for pid, _, _, args in procs if args == f"sleep {marker}"]
        runtimes = [args for _, _, _, args in procs  # this engine's: its --root is in workdir
                    if {os.path.basename(word) for word in args.split()[:3]} & RUNTIMES
                    and workdir in args]
        return {
            "containers": len(sleeps),
            "start all (s)": round(elapsed, 1),
            "per container (ms)": round(elapsed * 1000 / count),
            "shims": len(shims),
            "runtime processes": len(runtimes),
            "shim RSS (MiB)": mean_mib(shims, "rss"),
            "shim PSS (MiB)": mean_mib(shims, "pss"),
            "shim USS (MiB)": mean_mib(shims, "uss"),
            "process RSS (MiB)": mean_mib(sleeps, "rss"),
            "process USS (MiB)": mean_mib(sleeps, "uss"),
            "shim+process PSS (MiB)": round(mean_mib(shims, "pss") + mean_mib(sleeps, "pss"), 2),
            "host used per container (MiB)": round((after - before) / count / MiB, 2),
        }
    finally:
        for i in range(0, len(ids), 20):
            subprocess.run([*docker, "rm", "-f", *ids[i:i + 20]], capture_output=True)
        left = [p for p in processes() if f"sleep {marker}" == p[3]]
        if left:
            raise RuntimeError(f"{len(left)} containers left after rm -f")


def shim_start_ms(runs: int = 10) -> tuple[float, float]:
    """Median times from exec to the exit of the shim's first process, which is all
    containerd waits for (the socket is bound, the real shim forked), and to its
    first answer (the real shim has imported what serving needs). Each shim is then
    told to shut down (its runtime /bin/false: there is no container)."""
    started, ready = [], []
    with tempfile.TemporaryDirectory(prefix="wb-shim-start-") as tmp:
        for i in range(runs):
            address = os.path.join(tmp, f"s{i}.sock")
            command = [str(REPO / "bin" / "whalebones-shim"), "--id", f"bench{i}",
                       "--bundle", tmp, "--socket", address, "--runtime", "/bin/false",
                       "--runtime-root", tmp]
            start = time.perf_counter()
            subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
            started.append((time.perf_counter() - start) * 1000)
            for method in ("state", "shutdown"):
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.connect(address)
                    sock.sendall(b'{"method": "%s"}\n' % method.encode())
                    sock.recv(4096)
                if method == "state":
                    ready.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(started), 1), round(statistics.median(ready), 1)


def bench_scale(stack: ExitStack, count: int, with_docker: bool) -> dict[str, dict]:
    results: dict[str, dict] = {}
    marker = str(900000 + os.getpid() % 1000)  # tells our sleeps from anyone else's
    engine = stack.enter_context(start_engine("stage4"))
    results["stage4"] = scale(["docker", "-H", engine.host], SHIMS["stage4"], count, marker,
                               str(engine.workdir))
    left = [p for p in processes() if "whalebones-shim" in p[3] and str(engine.workdir) in p[3]]
    results["stage4"]["shims left after rm"] = len(left)
    started, ready = shim_start_ms()
    results["stage4"]["shim start (ms)"] = started
    results["stage4"]["shim ready (ms)"] = ready
    if with_docker:
        ref = stack.enter_context(start_engine("reference"))
        results["docker"] = scale(["docker", "-H", ref.host], SHIMS["docker"], count, marker,
                                str(ref.workdir))
    return results
