"""The workshop's pages, one per exercise, generated from exercises/catalog.py.

The catalog is the one place an exercise is described: the task, why it matters,
the code it is about, the hints and the checks. The page and `make exercise` both
read it, so they cannot disagree.
"""

from __future__ import annotations

from exercises.catalog import EXERCISES, Exercise
from sitegen.common import Page, link

STAGE_PAGES = {f"stage{n}": f"stages/stage{n}.md" for n in range(1, 5)}


def exercise_page(e: Exercise) -> Page:
    uri = f"workshop/{e.name}.md"
    if e.stage in STAGE_PAGES:
        where = f"[{e.stage.replace('stage', 'stage ')}]({link(uri, STAGE_PAGES[e.stage])})"
    else:
        where = "the core every stage shares (`shared/`)"
    n = EXERCISES.index(e) + 1
    out = [f"# {e.title}\n",
           f"Exercise {n} of {len(EXERCISES)} on [the path](index.md), on {where}: "
           f"{e.level}, about {e.minutes} minutes. `make exercise NAME={e.name}`\n",
           "## The task\n", f"{e.task}\n", "## Why it matters\n", f"{e.why}\n",
           "## What you write\n"]
    for t in e.targets:
        where = (f"the step that is missing in [`{t.function}`](source:{t.path}#{t.function})"
                 if t.statement else f"[`{t.function}`](source:{t.path}#{t.function})")
        effect = ("raises `NotImplementedError` until you write it: no container can "
                  "start without it" if t.stub == "raise" else
                  "does nothing until you write it: containers still start, without this step")
        out.append(f"- {where} in `{t.path}`. The stub {effect}.")
    out += ["", "Read first: " + ", ".join(f"[`{p}`](source:{p})" for p in e.reading) + ".\n",
            "## Commands\n",
            "```sh",
            f"make exercise NAME={e.name}            # exercises/work/{e.name}/, stubbed",
            f"make exercise-check NAME={e.name}      # the checks below, on your copy",
            f"make exercise-run NAME={e.name}        # stage {e.run_stage} from your copy: "
            "./run busybox sh; make stop",
            f"make exercise-hint NAME={e.name}       # the hints below",
            f"make exercise-reset NAME={e.name}      # the stub again (yours kept as *.yours)",
            f"make exercise-solution NAME={e.name}   # the project's code; APPLY=1 puts it in",
            "```\n",
            "The checks run real containers, so they need root"
            + ("." if e.needs_root else " (not this one).") + " They are tests from the "
            "project's own suite:\n"]
    for test_id in e.tests:
        path, name = test_id.split("::")
        out.append(f"- [`{name}`](source:{path}#{name})")
    if e.cgroup_versions:
        out.append(f"\nThe code is for cgroup v{' and v'.join(map(str, e.cgroup_versions))}. "
                   "`make exercise-check` says which version it exercised: the host's "
                   "(this project's machine is hybrid, so v1). `make exercise-check "
                   f"NAME={e.name} V2=1` runs the checks that need no daemon in a pure "
                   "cgroup v2 VM.")
    out.append("\n## Hints\n")
    for n, hint in enumerate(e.hints, 1):
        out += [f'??? tip "Hint {n}"', f"    {hint}", ""]
    return Page(uri, "\n".join(out) + "\n")


def hours(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def index_page() -> Page:
    total = sum(e.minutes for e in EXERCISES)
    out = ["# Workshop exercises\n",
           "Each exercise takes one piece of the engine out and leaves a stub with a "
           "TODO and hints in a working copy of the repository, `exercises/work/NAME/`. "
           "The rest of the engine still runs. You write the missing piece, and "
           "`make exercise-check` runs focused tests from the project's own suite "
           "against your copy. The repository itself is never changed. "
           "`tests/docs/test_exercises.py` proves that every exercise fails when "
           "stubbed and passes with the project's code.\n",
           "```sh\nmake exercises                      # the path, in order\n"
           "make exercise NAME=clone-flags      # start the first\n"
           "make exercise-run NAME=clone-flags  # its stage, run by your copy: "
           "./run busybox sh\n```\n",
           "## The path\n",
           f"Take them in this order: from one flag of a system call to the shim that "
           f"outlives containerd, {len(EXERCISES)} exercises, about {hours(total)} in all "
           "(a day). Each names its stage: `make exercise-run` starts that stage from "
           "your working copy, so `./run busybox sh` runs a container with your code "
           "(`make stop` stops it).\n",
           "| # | exercise | stage | level | time | what you write |",
           "|---|---|---|---|---|---|"]
    for n, e in enumerate(EXERCISES, 1):
        what = ", ".join(f"a step of `{t.function}`" if t.statement else f"`{t.function}`"
                         for t in e.targets)
        stage = e.stage.replace("stage", "stage ") if e.stage in STAGE_PAGES else "every stage"
        out.append(f"| {n} | [{e.title}]({e.name}.md) | {stage} | {e.level} | "
                   f"{e.minutes} min | {what} |")
    return Page("workshop/index.md", "\n".join(out) + "\n")


def pages() -> list[Page]:
    return [index_page(), *(exercise_page(e) for e in EXERCISES)]


def nav() -> list[dict[str, str] | str]:
    return ["workshop/index.md", *({e.title: f"workshop/{e.name}.md"} for e in EXERCISES)]
