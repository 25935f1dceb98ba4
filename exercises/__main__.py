"""`python -m exercises list | start | check | hint | reset | solution [--apply] NAME`."""

from __future__ import annotations

import argparse
import os
import sys

from exercises import workcopy
from exercises.catalog import BY_NAME, EXERCISES, Exercise


def show_start(exercise: Exercise) -> None:
    dest = workcopy.workdir(exercise)
    print(f"\n{exercise.title}  ({exercise.stage})\n")
    print(f"  {exercise.task}\n")
    print(f"  Why: {exercise.why}\n")
    print(f"  Your working copy: {dest.relative_to(workcopy.REPO)}/")
    for target in exercise.targets:
        what = "the missing step (look for TODO) in " if target.statement else ""
        print(f"  Write: {what}{target.function}() in "
              f"{dest.relative_to(workcopy.REPO)}/{target.path}  (look for TODO)")
    print(f"\n  make exercise-check NAME={exercise.name}      run the checks")
    print(f"  make exercise-hint NAME={exercise.name}       hints, gentle first")
    print(f"  make exercise-reset NAME={exercise.name}      start again from the stub")
    print(f"  make exercise-solution NAME={exercise.name}   the project's own code\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m exercises", description=__doc__)
    p.add_argument("command", choices=["list", "start", "check", "hint", "reset", "solution"])
    p.add_argument("name", nargs="?", default="")
    p.add_argument("--apply", action="store_true", help="solution: put it into your copy")
    args = p.parse_intermixed_args(argv)
    if args.command == "list":
        for e in EXERCISES:
            print(f"  {e.name:20} {e.stage:7} {e.title}")
        print("\n  make exercise NAME=<name>   starts one")
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
    status = workcopy.check(exercise)
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
