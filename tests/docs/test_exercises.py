"""Every workshop exercise is sound: its stub fails the checks, the project's code passes.

For each exercise (exercises/catalog.py): the stub replaces exactly the code it is
about and still parses; its focused tests exist; and, run for real in a fresh working
copy, the checks fail against the stub and pass once the project's own code is put
back (`make exercise-solution APPLY=1`). The last part runs containers: root only.
"""

from __future__ import annotations

import ast
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from exercises import stub, workcopy
from exercises.__main__ import main as exercises_main
from exercises.catalog import DIFFICULTY, EXERCISES, Exercise
from tests.engines import cgroup_dirs, cgroups_left, remove_cgroups

REPO = Path(__file__).resolve().parents[2]
IDS = [e.name for e in EXERCISES]


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_the_stub_replaces_only_the_exercise(exercise: Exercise) -> None:
    for target in exercise.targets:
        text = (REPO / target.path).read_text()
        stubbed = stub.stub(text, exercise, target)
        ast.parse(stubbed)
        assert f"TODO(exercise {exercise.name})" in stubbed
        solution = stub.original(text, target)
        assert solution.strip() and solution not in stubbed
        # everything outside the replaced lines is untouched
        first, last, _ = stub.span(text, target)
        lines, new = text.splitlines(), stubbed.splitlines()
        head, tail = lines[:first - 1], lines[last:]
        assert new[:len(head)] == head
        assert new[len(new) - len(tail):] == tail


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_the_focused_tests_exist(exercise: Exercise) -> None:
    assert exercise.tests and exercise.hints
    for test_id in exercise.tests:
        path, name = test_id.split("::")
        tree = ast.parse((REPO / path).read_text())
        assert name in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, test_id


@pytest.fixture
def work_root() -> Iterator[Path]:
    """A fresh directory for the working copy; after the checks, no cgroup of theirs
    may be left. The stub's run is meant to fail, and a failing check's own leak
    report is lost with it: a containerd that cannot adopt its shims, say, must still
    not leave the containers' cgroups on the host."""
    root = Path(tempfile.mkdtemp(prefix="wb-exercise-"))
    before = set(cgroup_dirs())
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
        left = cgroups_left(before)
        remove_cgroups(left)
        assert not left, f"cgroups left by the checks: {left}"


@pytest.mark.skipif(os.geteuid() != 0, reason="the checks run real containers: root only")
@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_fails_stubbed_and_passes_with_the_projects_code(exercise: Exercise,
                                                         work_root: Path) -> None:
    dest = workcopy.create(exercise, work_root)
    target = dest / exercise.targets[0].path
    assert "TODO(exercise" in target.read_text()
    assert workcopy.check(exercise, work_root, quiet=True) != 0, "the stub passes the checks"
    workcopy.apply_solution(exercise, work_root)
    assert target.read_text() == (REPO / exercise.targets[0].path).read_text()
    assert workcopy.check(exercise, work_root, quiet=True) == 0, \
        "the project's own code fails the exercise's checks"


# ---------------------------------------------------------------- the path (pure)


def test_the_path_goes_from_the_gentlest_to_the_shim() -> None:
    assert len(EXERCISES) >= 16
    assert [e.name for e in EXERCISES[:2]] == ["clone-flags", "uts-hostname"]
    assert all(e.difficulty in DIFFICULTY and 0 < e.minutes <= 90 for e in EXERCISES)
    stages = [e.stage_number for e in EXERCISES]
    for era in (1, 2, 3, 4):
        assert stages.count(era) >= 2, f"stage {era} has fewer than two exercises"
    # stage 3's contract comes after every stage 1 and 2 exercise, the shim last of all
    last_early = max(i for i, s in enumerate(stages) if s in (1, 2))
    assert all(i > last_early for i, s in enumerate(stages) if s == 3)
    assert min(i for i, s in enumerate(stages) if s == 4) > max(
        i for i, s in enumerate(stages) if s == 3)
    assert EXERCISES[-1].stage == "stage4"


def test_make_exercises_lists_the_path_with_level_and_time(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert exercises_main(["list"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.split()[:1] and line.split()[0].rstrip(".").isdigit()
            and line.split()[0].endswith(".")]
    assert [row[1] for row in rows] == IDS
    for row, e in zip(rows, EXERCISES, strict=True):
        assert row[0] == f"{EXERCISES.index(e) + 1}." and row[3] == e.level
        assert row[4] == str(e.minutes) and row[5] == "min"


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_the_last_hint_stops_short_of_the_solution(exercise: Exercise) -> None:
    """No line of the project's code (beyond a trivial one) is in a hint."""
    hints = " ".join(exercise.hints)
    for target in exercise.targets:
        code = stub.original((REPO / target.path).read_text(), target)
        for line in code.splitlines():
            line = line.strip()
            if len(line) > 30 and not line.startswith("#"):
                assert line not in hints, line


def test_a_cgroup_exercise_says_which_version_it_exercised() -> None:
    """Pure: the label for a v1 host (this machine) and for a pure v2 one."""
    from exercises.catalog import BY_NAME

    pids = BY_NAME["pids-limit"]
    on_v1 = workcopy.cgroup_label(pids, 1)
    assert "ran on cgroup v1" in on_v1 and "v2 code is not exercised" in on_v1
    assert "V2=1" in on_v1
    on_v2 = workcopy.cgroup_label(pids, 2)
    assert "ran on cgroup v2" in on_v2 and "v1 code is not exercised" in on_v2
    assert workcopy.cgroup_label(BY_NAME["clone-flags"], 1) == ""
    assert {e.name for e in EXERCISES if e.cgroup_versions} >= {
        "pids-limit", "freezer", "device-filter"}
    assert workcopy.v2_tests(BY_NAME["freezer"]) == [
        t for t in BY_NAME["freezer"].tests if "behaviour" not in t]


def test_exercise_run_starts_the_stage_from_the_working_copy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With a fake scripts/stage call (nothing is started): the stage the exercise is
    about, or STAGE=N for shared code, with WB_SOURCE naming the working copy."""
    from exercises import __main__ as cli
    from exercises.catalog import BY_NAME

    calls: list[tuple[list[str], str]] = []

    def fake_call(command: list[str], env: dict[str, str]) -> int:
        calls.append((command, env["WB_SOURCE"]))
        return 0

    monkeypatch.setattr(cli.subprocess, "call", fake_call)
    for name, asked, stage in (("containerd-adopts-shims", None, "4"),
                               ("overlay-layers", None, "2"), ("overlay-layers", 3, "3")):
        assert cli.run(BY_NAME[name], asked) == 0
        assert calls[-1] == ([str(REPO / "scripts" / "stage"), "start", stage],
                             str(workcopy.workdir(BY_NAME[name])))


def test_scripts_stage_runs_the_code_of_wb_source() -> None:
    """scripts/stage puts WB_SOURCE first on PYTHONPATH and runs from it (the stage,
    containerd, and so the runtime and shims of its bin/)."""
    text = (REPO / "scripts" / "stage").read_text()
    assert 'src=$(cd "${WB_SOURCE:-$top}" && pwd)' in text
    assert text.count('PYTHONPATH="$src" nohup') == 2 and 'cd "$src"' in text
