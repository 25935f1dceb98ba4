"""`make bench`: how long a trivial container takes, end to end, beside the real peers.

Each contender runs `true` in a busybox container N times, one after another, on this
machine in this run; the table gives medians and ratios to `docker run --rm --network
none busybox true`. Speed is measured here, never asserted in a test: a number on a
busy 2-core machine is a fact about that run, not a property of the code.

    PYTHONPATH=. .venv/bin/python -m tests.bench [--runs N] [--only NAME,...]

`--only supervisor` (with --supervisor-runs 3 and --supervisor-engines stage3,docker,
say) is a quick subset: only `docker stats` cost and events latency (bench_supervisor.py).
`--only profile` (with --profile-stages stage2,stage3 say) is another: where each
stage's milliseconds go, phase by phase, from trace mode (bench_profile.py).

Everything measured is also merged into docs/generated/bench.json, with the machine
and the date: the Benchmarks page and the stage pages quote that file (commit it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from tests import bench_profile
from tests.bench_build import bench_build
from tests.bench_pull import bench_pull
from tests.bench_scale import bench_scale
from tests.bench_supervisor import bench_supervisor, report
from tests.engines import REPO, start_engine

RESULTS = REPO / ".bench" / "results.json"
DOCKER_ROW = "docker run --rm --network none"
PUBLISHED = REPO / "docs" / "generated" / "bench.json"  # what the docs quote: committed


def medians_ms(commands: dict[str, Callable[[int], list[str]]], runs: int,
               env: dict | None = None) -> dict[str, float]:
    """Median wall time of each `command(i)`, the commands taking turns (A, B, C, A, B,
    C...) after one warm-up round that is not counted. In turns, not one block after
    another: a machine whose load drifts during the run then slows every contender
    alike, and a cost one run leaves warm for the next of its kind (runc's cgroup write
    after another runc's, for one) is not counted for one contender only."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs + 1):
        for name, command in commands.items():
            start = time.perf_counter()
            result = subprocess.run(command(i), env=env, capture_output=True)
            elapsed = (time.perf_counter() - start) * 1000
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(command(i))} exited {result.returncode}: "
                                   f"{result.stderr.decode()}")
            if i:
                times[name].append(elapsed)
    return {name: statistics.median(t) for name, t in times.items()}


def busybox_bundle(workdir: Path) -> Path:
    """An OCI bundle over a busybox rootfs, its config from `runc spec`, running `true`."""
    bundle = workdir / "bundle"
    rootfs = bundle / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    os.symlink("busybox", rootfs / "bin" / "true")
    for d in ("proc", "sys", "dev", "tmp"):
        (rootfs / d).mkdir()
    subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["args"] = ["true"]
    config["process"]["terminal"] = False
    (bundle / "config.json").write_text(json.dumps(config))
    return bundle


def machine() -> dict[str, object]:
    """What the numbers were measured on: they mean nothing without it."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").open()
                if line.startswith("model name")), platform.machine())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").open()
                  if line.startswith("MemTotal:"))
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        cgroups = "v2"
    elif Path("/sys/fs/cgroup/unified").is_dir():
        cgroups = "hybrid (v1 controllers, empty cgroup2 at /sys/fs/cgroup/unified)"
    else:
        cgroups = "v1"
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "memory_gib": round(mem_kb / 1024 / 1024, 1), "cgroups": cgroups,
            "os": Path("/etc/debian_version").read_text().strip()
            if Path("/etc/debian_version").exists() else platform.system()}


def publish(measured: dict) -> None:
    """Merge this run's sections into docs/generated/bench.json: a section measured
    now replaces the old one (the main table key by key), the others stay, each with
    the date it was measured."""
    old = json.loads(PUBLISHED.read_text()) if PUBLISHED.is_file() else {}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = {**old, "machine": machine()}
    when = dict(old.get("when") or {})
    for key, value in measured.items():
        if not isinstance(value, dict) or not value:
            continue  # the scalars ("runs", "when"...) belong to the main table, below
        if key in ("median_ms", "paired_docker_ms"):
            value = {**old.get(key, {}), **value}
            out.update(runs=measured.get("runs"), baseline=measured.get("baseline"))
        if key == "profile":  # --profile-stages stage3: the other stages' profiles stay
            value = {**value, "stages": {**old.get(key, {}).get("stages", {}),
                                         **value.get("stages", {})}}
        out[key] = value
        if key != "paired_docker_ms":  # dated with the main table it belongs to
            when[key] = now
    out["when"] = when
    PUBLISHED.parent.mkdir(parents=True, exist_ok=True)
    PUBLISHED.write_text(json.dumps(out, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", help="comma-separated subset of contenders")
    parser.add_argument("--pull-runs", type=int, default=3, help="runs of each 50 MB pull")
    parser.add_argument("--scale", type=int, default=100, help="detached containers at once")
    parser.add_argument("--build-runs", type=int, default=3, help="runs of each build")
    parser.add_argument("--supervisor-runs", type=int, default=10,
                        help="runs of docker stats --no-stream and of the events latency")
    parser.add_argument("--profile-stages", default="stage1,stage2,stage3,stage4",
                        help="stages of the profile part (each beside docker, when present)")
    parser.add_argument("--supervisor-engines", default="stage1,stage2,stage3,stage4,docker",
                        help="engines of the supervisor part (docker: the reference dockerd)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    wanted = lambda name: only is None or name in only  # noqa: E731
    results: dict[str, float] = {}
    notes: dict[str, str] = {}
    pulls: dict[str, float] = {}
    builds: dict[str, float] = {}
    scaled: dict[str, dict] = {}
    supervised: dict[str, dict[str, float]] = {}
    profile: dict[str, dict] = {}
    paired: dict[str, float] = {}  # a stage's row -> docker's median in the same turns

    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="wb-bench-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)

        if shutil.which("lxc-execute") and wanted("lxc"):
            rootfs = busybox_bundle(workdir) / "rootfs"
            conf = workdir / "lxc.conf"
            conf.write_text(f"lxc.rootfs.path = dir:{rootfs}\nlxc.net.0.type = empty\n"
                            "lxc.apparmor.profile = unconfined\nlxc.autodev = 1\n"
                            "lxc.mount.auto = proc:mixed sys:ro\n")
            results.update(medians_ms({"lxc-execute (bundle rootfs)": (
                lambda i: ["lxc-execute", "-P", str(workdir), "-n", f"wb-bench-{i}",
                           "-f", str(conf), "--", "/bin/true"])}, args.runs))

        # docker's row is measured in turns with each stage's (medians_ms), so it runs
        # through the whole stage part: its engine starts first and stays up.
        docker: list[str] = []
        if shutil.which("dockerd") and wanted("docker"):
            ref = stack.enter_context(start_engine("reference"))
            docker = ["docker", "-H", f"unix://{ref.socket}", "run", "--rm", "--network",
                      "none", "busybox", "true"]
        docker_ms: list[float] = []  # docker's median in each stage's turns

        # Stages 3 and 4 also with Debian's runc in place of ours: the difference is
        # what our Python runtime costs (a process start and imports per runc call).
        variants = [("stage1", None)] if shutil.which("lxc-start") else []
        variants += [("stage2", None), ("stage3", None), ("stage4", None)]
        if shutil.which("runc"):
            variants += [("stage3", "runc"), ("stage4", "runc")]
        for stage, runtime in variants:
            if wanted(stage):
                saved = os.environ.get("RUNTIME")
                if runtime:
                    os.environ["RUNTIME"] = runtime
                try:
                    engine = stack.enter_context(start_engine(stage))
                finally:
                    if saved is None:
                        os.environ.pop("RUNTIME", None)
                    else:
                        os.environ["RUNTIME"] = saved
                env = {**os.environ, "WHALEBONES_HOST": f"unix://{engine.socket}"}
                suffix = f" (RUNTIME={runtime})" if runtime else ""
                bridge, none = (f"{stage} ./run busybox true{suffix}",
                                f"{stage} ./run --network none busybox true{suffix}")
                turns = {bridge: lambda i: [str(REPO / "run"), "busybox", "true"],
                         # like for like with docker's row: no bridge, no veth to make
                         none: lambda i: [str(REPO / "run"), "--network", "none",
                                          "busybox", "true"]}
                if docker:
                    turns[DOCKER_ROW] = lambda i: docker
                measured = medians_ms(turns, args.runs, env)
                if docker:
                    docker_ms.append(measured.pop(DOCKER_ROW))
                    paired.update({bridge: docker_ms[-1], none: docker_ms[-1]})
                results.update(measured)
                engine.stop()  # one engine of ours at a time: a fair share of the 2 cores
        if docker and not docker_ms:  # no stage wanted: docker alone
            docker_ms.append(medians_ms({DOCKER_ROW: lambda i: docker}, args.runs)[DOCKER_ROW])
        if docker_ms:
            results[DOCKER_ROW] = statistics.median(docker_ms)

        if shutil.which("runc") and (wanted("runc") or wanted("crun")):
            bundle = workdir / "bundle"
            if not bundle.exists():
                bundle = busybox_bundle(workdir)
            turns = {}
            if wanted("runc"):
                turns["runc run (bundle)"] = (
                    lambda i: ["runc", "--root", str(workdir / "runc"), "run",
                               "--bundle", str(bundle), f"wb-bench-{i}"])
                turns["whalebones-runc run (bundle)"] = (
                    lambda i: [str(REPO / "bin" / "whalebones-runc"), "--root",
                               str(workdir / "wb-runc"), "run", "--bundle", str(bundle),
                               f"wb-bench-{i}"])
            if shutil.which("crun") and wanted("crun"):
                # crun refuses this host's hybrid cgroups (docs/reference/contracts.md#crun):
                # run it in a mount namespace where the empty cgroup2 mount is gone.
                script = (
                    f"umount /sys/fs/cgroup/unified && exec crun --root {workdir / 'crun'} "
                    f"run --bundle {bundle} wb-bench-$0"
                )
                turns["crun run (bundle, private mount ns)"] = (
                    lambda i: ["unshare", "-m", "sh", "-c", script, str(i)])
                notes["crun run (bundle, private mount ns)"] = "includes unshare + sh (~3 ms)"
            results.update(medians_ms(turns, args.runs))

        if wanted("profile"):
            profile = run_profile(workdir, args.profile_stages.split(","), args.runs)

        if wanted("scale") and args.scale:
            scaled = bench_scale(stack, args.scale, shutil.which("dockerd") is not None)

        if wanted("supervisor"):
            names = [n for n in args.supervisor_engines.split(",")
                     if (n != "stage1" or shutil.which("lxc-start"))
                     and (n != "docker" or shutil.which("dockerd"))]
            supervised = bench_supervisor(names, args.supervisor_runs)

        if wanted("pull"):
            pulls, pull_notes = bench_pull(stack, workdir, args.pull_runs)
            notes.update(pull_notes)

        if wanted("build"):
            builds = bench_build(stack, workdir, args.build_runs,
                                 shutil.which("dockerd") is not None)

    base = results.get(DOCKER_ROW)
    if results:  # none with `--only supervisor`
        print(f"\nmedian of {args.runs} runs each, this machine, this run")
        print(f"{'contender':56} {'median ms':>10} {'x docker':>9}  (a stage's row: x the "
              "docker runs taken in turns with it)")
    for name, ms in results.items():
        beside = paired.get(name, base)
        ratio = f"{ms / beside:.2f}" if beside else "-"
        print(f"{name:56} {ms:10.1f} {ratio:>9}  {notes.get(name, '')}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"runs": args.runs, "median_ms": results,
                                   "baseline": DOCKER_ROW, "paired_docker_ms": paired,
                                   "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                                  indent=2))
    if scaled:
        print(f"\n{args.scale} detached sleep containers, started one after another")
        keys = list(next(iter(scaled.values())))
        print(f"{'':32}" + "".join(f"{name:>12}" for name in scaled))
        for key in keys:
            print(f"{key:32}" + "".join(f"{str(r.get(key, '-')):>12}" for r in scaled.values()))
        RESULTS.write_text(json.dumps({**json.loads(RESULTS.read_text()), "scale": scaled},
                                      indent=2))
    if supervised:
        report(supervised, args.supervisor_runs)
        RESULTS.write_text(json.dumps({**json.loads(RESULTS.read_text()),
                                       "supervisor_ms": supervised}, indent=2))
    if wanted("pull") and pulls:
        print(f"\npull of a 50 MB image from a local docker-registry, median of {args.pull_runs}")
        for name, ms in pulls.items():
            ratio = f"{ms / pulls['docker pull']:.2f}" if "docker pull" in pulls else "-"
            print(f"{name:56} {ms:10.1f} {ratio:>9}  {notes.get(name, '')}")
        results.update(pulls)
        RESULTS.write_text(json.dumps({**json.loads(RESULTS.read_text()), "pull_ms": pulls},
                                      indent=2))
    if builds:
        print(f"\nclassic build of a 7-step Dockerfile, median of {args.build_runs}")
        for name, ms in builds.items():
            print(f"{name:56} {ms:10.1f}")
        RESULTS.write_text(json.dumps({**json.loads(RESULTS.read_text()), "build_ms": builds},
                                      indent=2))
    if profile:
        bench_profile.report(profile)
        RESULTS.write_text(json.dumps({**json.loads(RESULTS.read_text()), "profile": profile},
                                      indent=2))
    publish(json.loads(RESULTS.read_text()))
    print(f"\nwritten to {RESULTS} and {PUBLISHED}")
    return 0


def run_profile(workdir: Path, stages: list[str], runs: int) -> dict[str, dict]:
    """The profile part: each stage's phases beside docker, the runtimes on one
    bundle, and the floors (bench_profile.py)."""
    profile: dict[str, dict] = {"stages": {}}
    with ExitStack() as stack:
        docker = None
        if shutil.which("dockerd"):
            ref = stack.enter_context(start_engine("reference"))
            docker = ["docker", "-H", ref.host]
        for stage in stages:
            if stage != "stage1" or shutil.which("lxc-start"):
                profile["stages"][stage] = bench_profile.profile_stage(stage, runs, docker)
    bundle = workdir / "bundle"
    if not bundle.exists():
        bundle = busybox_bundle(workdir)
    if shutil.which("runc"):
        profile["runtimes"] = bench_profile.runtime_profile(bundle, runs)
    profile["floors"] = bench_profile.floors(bundle, runs)
    return profile


if __name__ == "__main__":
    sys.exit(main())
