"""A learner's working copy: the engine copied whole, the exercise's code stubbed.

The copy lives in exercises/work/NAME/ (git-ignored), so the repository itself is
never changed and every exercise starts from the project's own, working code. The
checks run there: `python -m pytest` with the copy first on PYTHONPATH, so the engine
the tests drive is the learner's.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from exercises import stub
from exercises.catalog import Exercise

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "exercises" / "work"
COPIED = ("shared", "stages", "tests", "bin", "run", "pyproject.toml")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def workdir(exercise: Exercise, root: Path = WORK) -> Path:
    return root / exercise.name


def stubbed_files(exercise: Exercise) -> dict[str, str]:
    """path -> the text of that file with every target of the exercise stubbed."""
    texts: dict[str, str] = {}
    for target in exercise.targets:
        text = texts.get(target.path) or (REPO / target.path).read_text()
        texts[target.path] = stub.stub(text, exercise, target)
    return texts


def create(exercise: Exercise, root: Path = WORK) -> Path:
    dest = workdir(exercise, root)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=IGNORED, symlinks=True)
        elif source.exists():
            shutil.copy2(source, dest / name)
    write_stubs(exercise, dest)
    return dest


def write_stubs(exercise: Exercise, dest: Path) -> None:
    for path, text in stubbed_files(exercise).items():
        (dest / path).write_text(text)


def keep_yours(exercise: Exercise, dest: Path) -> list[Path]:
    """Save the learner's version of each file the exercise is about as FILE.yours."""
    saved = []
    for path in {t.path for t in exercise.targets}:
        mine = dest / path
        if mine.exists() and mine.read_text() != (REPO / path).read_text():
            backup = mine.with_name(mine.name + ".yours")
            shutil.copy2(mine, backup)
            saved.append(backup)
    return saved


def reset(exercise: Exercise, root: Path = WORK) -> list[Path]:
    dest = workdir(exercise, root)
    if not dest.exists():
        create(exercise, root)
        return []
    saved = keep_yours(exercise, dest)
    write_stubs(exercise, dest)
    return saved


def apply_solution(exercise: Exercise, root: Path = WORK) -> list[Path]:
    dest = workdir(exercise, root)
    saved = keep_yours(exercise, dest)
    for path in {t.path for t in exercise.targets}:
        shutil.copy2(REPO / path, dest / path)
    return saved


def solution_text(exercise: Exercise) -> str:
    parts = []
    for target in exercise.targets:
        text = (REPO / target.path).read_text()
        what = f"{target.function}" + (f" ({target.statement}...)" if target.statement else "")
        parts.append(f"# {target.path}: {what}\n{stub.original(text, target)}")
    return "\n\n".join(parts)


def your_diff(exercise: Exercise, root: Path = WORK) -> str:
    """How the learner's files differ from the project's."""
    dest = workdir(exercise, root)
    out = []
    for path in sorted({t.path for t in exercise.targets}):
        mine = dest / path
        if not mine.exists():
            continue
        out += difflib.unified_diff(mine.read_text().splitlines(),
                                    (REPO / path).read_text().splitlines(),
                                    f"yours: {path}", f"the project's: {path}", lineterm="")
    return "\n".join(out)


SKIPPED = 3  # check()'s status when a check could not run here: not a pass


def check(exercise: Exercise, root: Path = WORK, quiet: bool = False) -> int:
    """Run the exercise's focused tests in the working copy: 0 when every one of them
    ran and passed, SKIPPED when one was skipped (that proves nothing), else 1."""
    dest = workdir(exercise, root)
    env = dict(os.environ, PYTHONPATH=str(dest), PYTHONDONTWRITEBYTECODE="1")
    env.update(exercise.env)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--no-header", "-rfs", "--tb=short", *exercise.tests]
    result = subprocess.run(command, cwd=dest, env=env, text=True, capture_output=True,
                            timeout=600)
    if not quiet:
        print(result.stdout + result.stderr, end="")
    if result.returncode != 0:
        return 1
    summary = (result.stdout.strip().splitlines() or [""])[-1]
    return SKIPPED if "skipped" in summary else 0


def host_cgroup_version() -> int:
    """2 on a pure cgroup v2 host; 1 on a v1 or hybrid one (v1 controllers, an empty
    cgroup2 tree at /sys/fs/cgroup/unified), which libcontainer drives as v1."""
    return 2 if Path("/sys/fs/cgroup/cgroup.controllers").exists() else 1


def cgroup_label(exercise: Exercise, version: int) -> str:
    """Which of the exercise's cgroup code the checks exercised on a host of `version`:
    said outright, so that a pass on v1 is not taken for a pass on v2."""
    if not exercise.cgroup_versions:
        return ""
    if version in exercise.cgroup_versions:
        text = (f"These checks ran on cgroup v{version} (this host's): they exercised "
                f"your v{version} code.")
    else:
        text = (f"This host runs containers on cgroup v{version}; this exercise's code is "
                f"for v{'/v'.join(map(str, exercise.cgroup_versions))}.")
    other = [v for v in exercise.cgroup_versions if v != version]
    if other and exercise.cgroup_note:
        text += " " + exercise.cgroup_note
    elif other:
        text += f" Your v{other[0]} code is not exercised on this host."
    if other == [2]:
        text += (f" `make exercise-check NAME={exercise.name} V2=1` runs the checks that "
                 "need no daemon in a pure cgroup v2 VM (tests/cgroupv2; a few minutes).")
    return text


def v2_tests(exercise: Exercise) -> list[str]:
    """The checks the cgroup v2 VM can run: libcontainer's own tests. (The behaviour
    suite needs a daemon chosen by WB_ENGINES, which the VM's command line does not
    carry.)"""
    return [t for t in exercise.tests if not t.startswith("tests/behaviour/")]


def check_in_v2_vm(exercise: Exercise, root: Path = WORK) -> int:
    """The checks, in a pure cgroup v2 VM booted on the working copy (tests/cgroupv2/vm.py
    of the copy: the VM runs the code of the checkout its vm.py is in)."""
    dest = workdir(exercise, root)
    tests = v2_tests(exercise)
    if not exercise.cgroup_versions or not tests:
        print("This exercise has no cgroup v2 checks to run in the VM.")
        return 2
    # The VM's kernel is shared (a download); its initramfs and report are the copy's
    # own, so that two runs at once do not overwrite each other's.
    shared = Path(os.environ.get("WB_CGROUPV2_CACHE", "/var/cache/whalebones/cgroupv2"))
    cache = dest / ".cgroupv2"
    cache.mkdir(exist_ok=True)
    for part in ("kernel", "debs"):
        if (shared / part).is_dir() and not (cache / part).exists():
            (cache / part).symlink_to(shared / part)
    env = dict(os.environ, PYTHONPATH=str(dest), PYTHONDONTWRITEBYTECODE="1",
               WB_CGROUPV2_CACHE=str(cache))
    command = [sys.executable, "-m", "tests.cgroupv2.vm", "--stage", "stage2",
               "--pytest", *tests]
    return subprocess.run(command, cwd=dest, env=env).returncode
