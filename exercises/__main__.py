"""`python -m exercises list | start | check | hint | reset | run | solution [--apply] NAME`."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import textwrap

from exercises import workcopy
from exercises.catalog import BY_NAME, EXERCISES, Exercise


def show_start(exercise: Exercise) -> None:
    dest = workcopy.workdir(exercise)
    print(f"\n{exercise.title}  ({exercise.stage})\n")
    print(f"  {exercise.task}\n")
    print(f"  Why: {exercise.why}\n")
    print(f"  Your working copy: {dest.relative_to(workcopy.REPO)}/")
    for target in exercise.targets:
        what = "the missing step in " if target.statement else ""
        print(f"  Write: {what}{target.function}() in "
              f"{dest.relative_to(workcopy.REPO)}/{target.path}  (look for TODO)")
    print(f"\n  make exercise-check NAME={exercise.name}      run the checks")
    print(f"  make exercise-run NAME={exercise.name}        stage {run_stage(exercise)}, "
          "run by your copy: then ./run busybox sh, make stop")
    print(f"  make exercise-hint NAME={exercise.name}       hints, gentle first")
    print(f"  make exercise-reset NAME={exercise.name}      start again from the stub")
    print(f"  make exercise-solution NAME={exercise.name}   the project's own code\n")


def show_list() -> None:
    """The path, in the order to take it: gentle first, the shim last."""
    print(f"  {'':3} {'exercise':24} {'stage':7} {'level':7} {'time':>8}  what")
    for n, e in enumerate(EXERCISES, 1):
        print(f"  {n:2}. {e.name:24} {e.stage:7} {e.level:7} {e.minutes:4} min  {e.title}")
    total = sum(e.minutes for e in EXERCISES)
    print(f"\n  {len(EXERCISES)} exercises, about {total // 60} h {total % 60} min in all. "
          "Take them in this order.")
    print("  make exercise NAME=<name>   starts one")


def run_stage(exercise: Exercise, asked: int | None = None) -> int:
    """The stage `exercise-run` starts: the one the exercise is about; for code every
    stage shares, the one asked for (STAGE=N), else stage 2."""
    return asked or exercise.run_stage


def run(exercise: Exercise, asked: int | None) -> int:
    """Start the stage from the learner's working copy, in place of any running one:
    scripts/stage with WB_SOURCE, so that the daemon, containerd, the runtime and the
    shims all import the working copy's code, stubs and all."""
    stage = run_stage(exercise, asked)
    if stage == 1 and not shutil.which("lxc-start"):
        print("stage 1 needs LXC: make deps-lxc", file=sys.stderr)
        return 2
    dest = workcopy.workdir(exercise)
    print(f"Starting stage {stage} from your working copy, "
          f"{dest.relative_to(workcopy.REPO)}/ (a running stage is stopped first).")
    env = dict(os.environ, WB_SOURCE=str(dest))
    code = subprocess.call([str(workcopy.REPO / "scripts" / "stage"), "start", str(stage)],
                           env=env)
    if code == 0:
        print(f"\n  ./run busybox sh                  a container, run by your code"
              f"\n  make exercise-check NAME={exercise.name}   the checks"
              f"\n  make stop                         stops it; make stage-{stage} starts "
              "the project's own again")
    return code


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m exercises", description=__doc__)
    p.add_argument("command",
                   choices=["list", "start", "check", "hint", "reset", "run", "solution"])
    p.add_argument("name", nargs="?", default="")
    p.add_argument("--apply", action="store_true", help="solution: put it into your copy")
    p.add_argument("--v2", action="store_true",
                   help="check: in a pure cgroup v2 VM (cgroup exercises; slow)")
    p.add_argument("--stage", type=int, choices=[1, 2, 3, 4],
                   help="run: the stage to start, for an exercise every stage shares")
    args = p.parse_intermixed_args(argv)
    if args.command == "list":
        show_list()
        return 0
    exercise = BY_NAME.get(args.name)
    if exercise is None:
        print(f"no exercise {args.name!r}; there are: {', '.join(BY_NAME)}", file=sys.stderr)
        return 2
    dest = workcopy.workdir(exercise)
    if args.command == "start":
        if dest.exists():
            print(f"{dest.relative_to(workcopy.REPO)}/ exists already: your work is kept "
                  f"(make exercise-reset NAME={exercise.name} starts again).")
        else:
            workcopy.create(exercise)
        show_start(exercise)
        return 0
    if args.command == "hint":
        for n, hint in enumerate(exercise.hints, 1):
            print(f"  {n}. {hint}")
        return 0
    if args.command == "reset":
        for path in workcopy.reset(exercise):
            print(f"your version is kept in {path.relative_to(workcopy.REPO)}")
        show_start(exercise)
        return 0
    if not dest.exists():
        print(f"not started: make exercise NAME={exercise.name}", file=sys.stderr)
        return 2
    if args.command == "run":
        if os.geteuid() != 0:
            print("A stage runs containers: run it as root.", file=sys.stderr)
            return 2
        return run(exercise, args.stage)
    if args.command == "solution":
        print(workcopy.solution_text(exercise))
        diff = workcopy.your_diff(exercise)
        if diff:
            print("\nYours, against the project's:\n" + diff)
        if args.apply:
            for path in workcopy.apply_solution(exercise):
                print(f"your version is kept in {path.relative_to(workcopy.REPO)}")
            print("The project's code is now in your working copy.")
        return 0
    # check
    if exercise.needs_root and os.geteuid() != 0:
        print("These checks run real containers: run them as root.", file=sys.stderr)
        return 2
    if args.v2:
        status = workcopy.check_in_v2_vm(exercise)
        print("\nIn a pure cgroup v2 VM: " + ("all checks pass." if status == 0 else
                                                "not yet (the report is above)."))
        return 0 if status == 0 else 1
    status = workcopy.check(exercise)
    label = workcopy.cgroup_label(exercise, workcopy.host_cgroup_version())
    if label:
        print("\n" + textwrap.fill(label, 88))
    if status == workcopy.SKIPPED:
        print("\nSome checks were skipped here (the reasons are above): that is not a "
              "pass. Install what they need (make test installs everything) and check again.")
        return status
    if status == 0:
        print(f"\nAll checks pass: exercise {exercise.name} done. "
              f"Compare with the project's: make exercise-solution NAME={exercise.name}")
    else:
        print(f"\nNot yet. The first failure above says what the container saw. "
              f"Hints: make exercise-hint NAME={exercise.name}")
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
