"""`make bench`, profile part: where the milliseconds of one container go, phase by phase.

Each stage is started in trace mode (WHALEBONES_TRACE, shared/trace.py): every process
of the era (client, daemon, containerd, shim, runc, the container's init) appends what
it calls, serves and does, with CLOCK_MONOTONIC start times. The kernel's monotonic
clock is one clock for the whole machine, so the events of a dozen processes can be
laid on one line, together with two moments taken here: just before the client is
spawned and just after it exits. `phases` turns one run's events into nested phases:

    client: interpreter start ....  from the spawn to the client's import of shared.trace
    client: imports, arguments ...  from there to its first request
    request: create ...............  the client's wait for each API request
      daemon serves create ........  the daemon's share of it
        daemon: overlay mount ......  work the daemon does itself
        daemon → containerd: ...     the calls it makes to the next component
          runc: process start ......  a runc (or shim) process, from the call that
          runc: imports, arguments    started it: to its import of shared.trace,
          runc serves create .......  to its verb, the verb's work,
          runc: exit ...............  and its exit, until its caller has the answer
            init: unshare ..........  libcontainer's and the container's init's steps
    exit and gaps .................  the wall time the spawned process's own phases leave

and `profile_stage` takes the median of each phase over N runs, beside a docker run
measured in between (A, B, A, B...: pairs, so that a busy machine's drift falls on both).
Trace mode writes one line per event (a few µs each): a traced run is a little slower
than the untraced one of the main table.

`runtime_profile` does the same for `whalebones-runc run` on an OCI bundle, beside
Debian's runc and crun, with the total of each verb (create, start, delete) too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.engines import REPO, start_engine

Phase = tuple[int, str, float]  # (depth, label, ms)
COMMAND = ["--network", "none", "busybox", "true"]
EPSILON = 0.00002  # s: `ms` is rounded to 0.01 ms, so a child may seem to outlive its parent

# The trace steps of libcontainer (container.py, in the daemon or runc) and of the
# container's init (init.py) each mark the end of a stretch of work: the stretch from
# the step before is named for what it was spent on.
INIT_STEPS = [
    ("spec read", "libcontainer: imports, the spec read (specconv)"),
    ("seccomp compiled", "libcontainer: the seccomp filter compiled (libseccomp)"),
    ("cgroup made", "libcontainer: state dir, exec.fifo, the cgroup made"),
    ("joined the cgroup", "init: forked (twice), joins the cgroup"),
    ("unshare(", "init: setns/unshare (the namespaces)"),
    ("mounts ready", "init: mounts (rootfs, proc, dev, sys)"),
    ("pivot_root", "init: hooks, pivot_root"),
    ("created:", "init: hostname, capabilities, seccomp, ready"),
    ("started:", "init: woken by `start` (exec.fifo), to execve"),
]


# What the stretches before a process's first event are, when it is not the plain
# story (started by the call around it, then shared.trace imported first thing): the
# shim answers containerd's `start shim` once its socket listens, and forks; the child
# imports its server (and shared.trace) while containerd already makes its next call.
STARTUP = {"shim": ("shim: its server's imports, after the fork", "shim: accepts the call",
                    "shim: its answer reaches the caller")}


class Interval:
    """A stretch of one run. `record` is the trace event it comes from, if any: the
    stretches inferred around the events (start-ups, exits, the init's steps) have none."""

    __slots__ = ("start", "end", "label", "pid", "record")

    def __init__(self, start: float, end: float, label: str, pid: int = 0,
                 record: dict | None = None) -> None:
        self.start, self.end, self.label, self.pid, self.record = start, end, label, pid, record

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


def request_name(what: str) -> str:
    """`POST /v1.45/containers/<id>/start` -> `start`; `POST /containers/create` ->
    `create`; `DELETE /containers/<id>` -> `delete`; `HEAD /_ping` -> `ping`."""
    method, _, path = what.partition(" ")
    parts = [p for p in path.split("?")[0].split("/")
             if p and not re.fullmatch(r"v1\.\d+|[0-9a-f]{64}", p)]
    if method == "DELETE":
        return "delete"
    last = parts[-1] if parts else path
    return last.lstrip("_")


def label(r: dict) -> str:
    what, who = r["what"], r["component"]
    if who == "client" and r["kind"] == "call":
        return f"request: {request_name(what)}"
    if who == "daemon" and r["kind"] == "serve" and what[:1].isupper() and " /" in what:
        return f"daemon serves {request_name(what)}"
    if r["kind"] == "call":
        return f"{who} → {r['peer']}: {what}"
    if r["kind"] == "serve":
        return f"{who} serves {what}"
    return f"{who}: {what}"


def init_label(what: str) -> str:
    for prefix, name in INIT_STEPS:
        if what.startswith(prefix):
            return name
    return f"init: {what}"


def intervals(records: list[dict], spawned: float, ended: float) -> list[Interval]:
    """The run's events (those that began between `spawned` and `ended`) as intervals,
    with the start-up and exit of each traced process inferred around them."""
    records = [r for r in records if "mono" in r and spawned <= r["mono"] <= ended]
    spans = [Interval(r["mono"], r["mono"] + r["ms"] / 1000, label(r), r["pid"], r)
             for r in records if r["kind"] != "step"]
    out = list(spans)

    # The steps: each one closes the stretch since the step before, or since
    # the innermost span around it began, whichever is later (the first step's
    # stretch has the fork in it; the last one's starts with the `start` that woke it).
    steps = sorted((r for r in records if r["kind"] == "step"
                    and r["component"] in ("libcontainer", "init")), key=lambda r: r["mono"])
    previous = 0.0
    for r in steps:
        around = [s.start for s in spans if s.start <= r["mono"] <= s.end + EPSILON]
        begin = max([previous, *around]) if around or previous else r["mono"]
        out.append(Interval(begin, r["mono"], init_label(r["what"])))
        previous = r["mono"]

    # Each process's start-up: from the call during which it was started (or, for the
    # root process, the spawn) to its import of shared.trace; then to its first event.
    firsts: dict[int, dict] = {}
    for r in sorted(records, key=lambda r: r["mono"]):
        if r["component"] not in ("init", "libcontainer") and r.get("loaded"):
            firsts.setdefault(r["pid"], r)
    for pid, first in firsts.items():
        loaded, who = first["loaded"], first["component"]
        callers = [s for s in spans if s.pid != pid and s.start <= loaded <= s.end
                   and "→" in s.label]
        if callers:
            caller = max(callers, key=lambda s: s.start)  # the innermost
            begin, finish = caller.start, caller.end
        elif loaded >= spawned:
            begin, finish = spawned, ended  # the root process: what the bench spawned
        else:
            continue  # a long-running process (daemon, containerd): started before
        own = sorted((s for s in spans if s.pid == pid and begin <= s.start <= finish),
                     key=lambda s: s.start)
        before, between, after = STARTUP.get(who, (
            f"{who}: interpreter start, imports up to shared.trace",
            f"{who}: imports, arguments", f"{who}: exit, answer reaches the caller"))
        if callers and caller.label.endswith(": start shim"):  # it imported quickly
            before = "shim: interpreter start, socket, fork, its server's imports"
        out.append(Interval(begin, loaded, before))
        if own:
            out.append(Interval(loaded, own[0].start, between))
            if callers:
                last = max(s.end for s in own)
                out.append(Interval(last, finish, after))
        elif callers:
            out.append(Interval(loaded, finish, f"{who}: set up, answer the caller"))
    return out


def part_of(parent: Interval, child: Interval) -> bool:
    """May `child`, which begins while `parent` runs, be a part of it? Time alone does
    not say: a daemon's threads and its peers work at once. A traced event is part of
    a span of the same thread, or of a call to its own component (what the callee
    serves, and calls in turn); an inferred stretch, of whatever it lies in."""
    if child.record is None:
        return True
    if parent.record is None:
        return False
    p, c = parent.record, child.record
    same_thread = (p["pid"], p.get("tid")) == (c["pid"], c.get("tid"))
    return same_thread or (p["kind"] == "call" and p["peer"] == c["component"])


def answers(call: Interval, serve: Interval) -> bool:
    """Is `serve` the callee's side of `call` (`runc create` / `create`, `POST
    /containers/create` / `POST /v1.45/containers/create`, `Tasks.Create` / itself)?"""
    c, s = call.record, serve.record
    if c is None or s is None or c["kind"] != "call" or s["kind"] != "serve":
        return False
    if " /" in c["what"] and " /" in s["what"]:  # HTTP: the API version prefix aside
        return request_name(c["what"]) == request_name(s["what"])
    return c["what"].endswith(s["what"])


def nest(items: list[Interval]) -> list[Phase]:
    """Each interval under the innermost one it can be part of that runs when it
    begins (for what a component serves: the call it answers, if one is running),
    listed as a tree: each one's parts right after it, in start order."""
    ordered = sorted(items, key=lambda i: (i.start, -i.end))
    children: dict[int, list[int]] = {-1: []}  # -1: the top level
    open_: list[int] = []  # indices into `ordered`, in start order
    for n, item in enumerate(ordered):
        open_ = [o for o in open_ if item.start < ordered[o].end - EPSILON]  # still running
        parents = [o for o in reversed(open_) if part_of(ordered[o], item)]
        answered = [o for o in parents if answers(ordered[o], item)]
        children.setdefault((answered or parents or [-1])[0], []).append(n)
        open_.append(n)
    out: list[Phase] = []

    def walk(n: int, depth: int) -> None:
        for child in children.get(n, []):
            out.append((depth, ordered[child].label, round(ordered[child].ms, 2)))
            walk(child, depth + 1)

    walk(-1, 0)
    return out


def phases(records: list[dict], spawned: float, ended: float) -> list[Phase]:
    """One run, as nested phases. The client's, one after another at the top level,
    and then `exit and gaps` add up to the wall time from `spawned` to `ended` (other
    top-level phases happen meanwhile: a daemon's thread that deletes the container)."""
    out = nest(intervals(records, spawned, ended))
    # The root process (what the bench spawned): the first to load shared.trace after
    # the spawn. Its own phases follow one another at the top level.
    loads = sorted((r["loaded"], r["component"]) for r in records
                   if r.get("loaded", 0) >= spawned and r["component"] not in
                   ("init", "libcontainer"))
    root = loads[0][1] if loads else "client"
    own = (f"{root}:", f"{root} serves", *(("request:",) if root == "client" else ()))
    top = sum(ms for depth, name, ms in out if depth == 0 and name.startswith(own))
    wall = (ended - spawned) * 1000
    out.append((0, "exit and gaps", round(max(wall - top, 0.0), 2)))
    return out


def keyed(run: list[Phase]) -> list[tuple[str, int, str, float]]:
    """(key, depth, label, ms): the key names a phase by its path and its rank among
    its namesakes there, so that runs can be matched phase by phase."""
    path: list[str] = []
    seen: dict[str, int] = {}
    out = []
    for depth, name, ms in run:
        del path[depth:]
        base = "/".join([*path, name])
        seen[base] = seen.get(base, 0) + 1
        key = f"{base}#{seen[base]}"
        path.append(f"{name}#{seen[base]}")
        out.append((key, depth, name, ms))
    return out


def median_phases(runs: list[list[Phase]]) -> list[dict]:
    """Each phase's median over the runs it appears in, in the order of the run that
    has the most phases."""
    if not runs:
        return []
    values: dict[str, list[float]] = {}
    for run in runs:
        for key, _, _, ms in keyed(run):
            values.setdefault(key, []).append(ms)
    model = keyed(max(runs, key=len))
    return [{"depth": depth, "phase": name, "ms": round(statistics.median(values[key]), 2),
             "seen": len(values[key])} for key, depth, name, _ in model]


# ---------------------------------------------------------------- measuring


def timed(argv: list[str], env: dict | None = None) -> tuple[float, float]:
    """(monotonic start, end) of one command, which must succeed. Its output goes to
    files, not pipes: a runtime's `create` leaves the container's init holding them,
    and a pipe would not reach its end until that init is gone."""
    with tempfile.TemporaryFile() as err:
        start = time.monotonic()
        code = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=err).returncode
        end = time.monotonic()
        if code != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(argv)} exited {code}: {err.read().decode()[-500:]}")
    return start, end


def read_and_empty(path: Path) -> list[dict]:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.write_text("")
    return records


def profile_stage(stage: str, runs: int, docker: list[str] | None) -> dict:
    """N traced `./run --network none busybox true` on `stage`, each after one docker
    run (when there is a reference engine), after one warm-up pair."""
    with tempfile.TemporaryDirectory(prefix="wb-profile-") as tmp:
        trace = Path(tmp) / "trace.jsonl"
        saved = os.environ.get("WHALEBONES_TRACE")
        os.environ["WHALEBONES_TRACE"] = str(trace)  # the engine's processes inherit it
        try:
            with start_engine(stage) as engine:
                env = {**os.environ, "WHALEBONES_HOST": engine.host}
                ours: list[list[Phase]] = []
                walls: list[float] = []
                theirs: list[float] = []
                for i in range(runs + 1):
                    if docker:
                        start, end = timed([*docker, "run", "--rm", *COMMAND])
                        if i:
                            theirs.append((end - start) * 1000)
                    time.sleep(0.2)  # what the last run left to do (a delete) is done
                    trace.write_text("")
                    start, end = timed([str(REPO / "run"), *COMMAND], env)
                    time.sleep(0.2)
                    records = read_and_empty(trace)
                    if i:
                        ours.append(phases(records, start, end))
                        walls.append((end - start) * 1000)
        finally:
            if saved is None:
                os.environ.pop("WHALEBONES_TRACE", None)
            else:
                os.environ["WHALEBONES_TRACE"] = saved
    result: dict = {"command": "./run " + " ".join(COMMAND), "runs": runs,
                    "wall_ms": round(statistics.median(walls), 1),
                    "phases": median_phases(ours)}
    if theirs:
        result["docker_ms"] = round(statistics.median(theirs), 1)
    return result


def runtime_profile(bundle: Path, runs: int) -> dict:
    """`run` and each of create, start, delete, by whalebones-runc (traced: its phases
    too), Debian's runc and crun, on the same bundle, interleaved run by run."""
    workdir = Path(tempfile.mkdtemp(prefix="wb-runtimes-"))
    trace = workdir / "trace.jsonl"
    trace.write_text("")
    ours = str(REPO / "bin" / "whalebones-runc")
    runtimes: dict[str, list[str]] = {
        "whalebones-runc": [ours, "--root", str(workdir / "wb")],
        "runc": ["runc", "--root", str(workdir / "runc")],
    }
    if shutil.which("crun"):
        # crun refuses this host's hybrid cgroups (docs/reference/contracts.md#crun):
        # each call runs in a mount namespace where the empty cgroup2 mount is gone.
        runtimes["crun (private mount ns)"] = [
            "unshare", "-m", "sh", "-c",
            f'umount /sys/fs/cgroup/unified && exec crun --root {workdir / "crun"} "$@"',
            "crun"]
    traced = {**os.environ, "WHALEBONES_TRACE": str(trace)}
    tag = f"wb-profile-{os.getpid()}"  # the cgroups' names: no one else's
    totals: dict[str, dict[str, list[float]]] = {n: {} for n in runtimes}
    ours_phases: list[list[Phase]] = []
    try:
        for i in range(runs + 1):
            for name, argv in runtimes.items():
                env = traced if name == "whalebones-runc" else None
                created = f"{tag}-c{i}"
                verbs = {"run": ["run", "--bundle", str(bundle), f"{tag}-r{i}"],
                         "create": ["create", "--bundle", str(bundle), created],
                         "start": ["start", created],
                         "delete": ["delete", "--force", created]}
                for verb, args in verbs.items():
                    trace.write_text("")
                    try:
                        start, end = timed([*argv, *args], env)
                    except RuntimeError:
                        if verb in ("create", "start"):  # nothing left behind
                            subprocess.run([*argv, "delete", "--force", created],
                                           capture_output=True)
                        raise
                    if verb == "start":
                        time.sleep(0.05)  # `true` has exited: delete finds it stopped
                    if not i:
                        continue
                    totals[name].setdefault(verb, []).append((end - start) * 1000)
                    if env is not None and verb == "run":
                        ours_phases.append(phases(read_and_empty(trace), start, end))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"runs": runs,
            "verbs_ms": {name: {verb: round(statistics.median(ms), 1)
                                for verb, ms in verbs_ms.items()}
                         for name, verbs_ms in totals.items()},
            "whalebones_runc_run": median_phases(ours_phases)}


def floors(bundle: Path, runs: int) -> dict[str, float]:
    """What the host's own tools take for the same work: how close each phase can get."""
    rootfs = bundle / "rootfs"
    python = "/usr/bin/python3"  # the one bin/whalebones-runc and the shim start
    commands = {
        "python3 -I -S -c pass": [python, "-I", "-S", "-c", "pass"],
        "python3 -I -S -c 'import json'": [python, "-I", "-S", "-c", "import json"],
        "unshare -mpf chroot ROOTFS /bin/true":
            ["unshare", "-m", "-p", "-f", "chroot", str(rootfs), "/bin/true"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs + 1):  # interleaved, like the rest
        for name, argv in commands.items():
            start, end = timed(argv)
            if i:
                times[name].append((end - start) * 1000)
    return {name: round(statistics.median(ms), 1) for name, ms in times.items()}


def report(profile: dict) -> None:
    """The profile as text, as `make bench` prints it."""
    for stage, p in profile.get("stages", {}).items():
        docker = f", docker run --rm {' '.join(COMMAND)}: {p['docker_ms']} ms" \
            if "docker_ms" in p else ""
        print(f"\n{stage}: {p['command']}, median of {p['runs']} traced runs: "
              f"{p['wall_ms']} ms{docker}")
        for ph in p["phases"]:
            print(f"{'  ' * ph['depth']}{ph['phase']:<{64 - 2 * ph['depth']}} {ph['ms']:8.1f}")
    runtimes = profile.get("runtimes")
    if runtimes:
        print(f"\nruntimes on one bundle, median of {runtimes['runs']} (ms)")
        verbs = ["run", "create", "start", "delete"]
        print(f"{'':28}" + "".join(f"{v:>9}" for v in verbs))
        for name, ms in runtimes["verbs_ms"].items():
            print(f"{name:28}" + "".join(f"{ms.get(v, 0):9.1f}" for v in verbs))
        print("whalebones-runc run, phases:")
        for ph in runtimes["whalebones_runc_run"]:
            print(f"  {'  ' * ph['depth']}{ph['phase']:<{62 - 2 * ph['depth']}} {ph['ms']:8.1f}")
    for name, ms in profile.get("floors", {}).items():
        print(f"floor: {name:56} {ms:8.1f}")
