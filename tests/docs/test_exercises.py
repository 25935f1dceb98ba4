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
from exercises.catalog import EXERCISES, Exercise

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
    root = Path(tempfile.mkdtemp(prefix="wb-exercise-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


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
