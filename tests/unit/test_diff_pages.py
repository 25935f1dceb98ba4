"""The docs' diff pages (scripts/docs/sitegen/diffs.py), their pure parts on small
inputs: which files an import reads, how two counterpart files' definitions pair up,
which diffs are folded. Plus one check on the repository itself: the stage 2 -> 3 page
counts libcontainer's namespaces, rootfs and capabilities as used by runc."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("pygments", reason="the docs extra (pip install -e .[docs])")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "docs"))

from sitegen import diffs  # noqa: E402 (the path must be set first)

FILES = {"stages/b/lib/__init__.py", "stages/b/lib/ns.py", "stages/b/lib/rootfs.py",
         "stages/b/lib/sub/__init__.py", "stages/b/proto/x.proto", "stages/b/proto/__init__.py",
         "stages/c/run.py"}


def is_file(path: str) -> bool:
    return path in FILES


def test_every_name_of_a_multi_name_import_is_resolved() -> None:
    found = diffs.import_targets("stages.b.lib", ["ns", "rootfs", "Container", "sub"], is_file)
    assert found == {"stages/b/lib/ns.py": ["ns"], "stages/b/lib/rootfs.py": ["rootfs"],
                     "stages/b/lib/sub/__init__.py": ["sub"],
                     # the package runs when a module of it is imported, and holds Container
                     "stages/b/lib/__init__.py": ["Container"]}


def test_generated_stubs_stand_for_their_proto() -> None:
    found = diffs.import_targets("stages.b.proto", ["x_pb2", "x_pb2_grpc"], is_file)
    assert found == {"stages/b/proto/x.proto": ["x_pb2", "x_pb2_grpc"],
                     "stages/b/proto/__init__.py": []}


def test_imports_inside_functions_relative_and_plain_ones_count() -> None:
    text = '''
import os
import stages.b.lib.ns
from .run import main

def create():
    from stages.b.lib import (
        rootfs,
        Container,
    )
'''
    found = diffs.imports_of("stages/c/cli.py", is_file, text)
    assert found == {"stages/b/lib/ns.py": ["ns"], "stages/b/lib/__init__.py": ["Container"],
                     "stages/c/run.py": ["main"], "stages/b/lib/rootfs.py": ["rootfs"]}


OLD = '''"""The old executor."""
import lxc


def helper():
    return 1


class LxcExecutor:
    def create(self, cid):
        return lxc.start(cid)

    def start(self, cid):
        pass

    def _spawn(self):
        pass


class Tool:
    def wait_exit(self):
        pass
'''

NEW = '''"""The new executor."""
import libcontainer


class NativeExecutor:
    def start(self, cid):
        pass

    @staticmethod
    def create(cid):
        return libcontainer.create(cid)

    def _launch(self):
        pass


def helper():
    return 2
'''


def test_definitions_are_paired_by_name_across_a_renamed_class() -> None:
    pairing = diffs.pair_definitions(OLD, NEW)
    assert pairing.pairs == [("LxcExecutor.start", "NativeExecutor.start"),
                             ("LxcExecutor.create", "NativeExecutor.create"),
                             ("helper", "helper")]
    assert pairing.only_old == ["LxcExecutor._spawn", "Tool.wait_exit"]
    assert pairing.only_new == ["NativeExecutor._launch"]


def test_a_definition_spans_its_decorators() -> None:
    create = diffs.definitions(NEW)["NativeExecutor.create"]
    lines = NEW.splitlines()[create.first:create.end]
    assert lines[0].strip() == "@staticmethod"
    assert lines[-1].strip() == "return libcontainer.create(cid)"


def test_a_class_of_the_same_name_wins_over_one_with_more_methods_alike() -> None:
    old = {"Executor": {"a", "b"}, "Other": {"a", "b", "c"}}
    new = {"Executor": {"a", "b", "c"}}
    assert diffs.pair_classes(old, new) == {"Executor": "Executor"}


def test_what_is_outside_the_definitions() -> None:
    defs = diffs.definitions(NEW)
    rest = [NEW.splitlines()[i] for i in diffs.outside(NEW, defs)]
    assert "class NativeExecutor:" in rest and "import libcontainer" in rest
    assert not any("def " in line for line in rest)
    assert "    ..." in diffs.elided(NEW, defs).splitlines()


def test_trivial_diffs_are_told_apart() -> None:
    body = "\n".join(f"x{i} = {i}" for i in range(10))
    # docstring, imports, comments and layout only: folded, however many lines
    assert diffs.trivial(f'"""One."""\nimport a\nimport b\nimport c\n{body}\n',
                         f'"""Two,\nin more words."""\nimport d\n\n# why\n{body}\n') \
        == "only imports, docstrings, comments or layout, +5 −4"
    # a line or two of real change: folded as small
    assert diffs.trivial(body, body.replace("x3 = 3", "x3 = 4")) == "a small change, +1 −1"
    # real change: shown open
    changed = "\n".join(f"x{i} = {i + 1}" for i in range(10))
    assert diffs.trivial(body, changed) is None
    # not Python: judged by size alone
    assert diffs.trivial("a {\n" + body, "b {\n" + changed) is None


def test_runc_reaches_the_libcontainer_modules_it_runs() -> None:
    """The bug this page had: stage 2's namespaces.py, rootfs.py and capabilities.py
    were called "not imported" by stage 3, though every `runc create` runs them."""
    cmp = diffs.compare("stage2", "stage3")
    kinds = {c.old: c.kind for c in cmp.changes if c.old}
    for module in ("namespaces", "rootfs", "capabilities", "seccomp", "init"):
        assert kinds[f"stages/stage2_libcontainer/libcontainer/{module}.py"] == "kept"


def test_the_views_start_as_suits_the_screen_and_a_trivial_one_folded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    shown = diffs.views("stage1-stage2/0/3", "<table>S</table>", "<table>U</table>", None)
    # three radios of one group, the hidden "auto" checked: CSS picks the view by width
    assert shown.count('name="wb-v-stage1-stage2-0-3"') == 3
    assert 'class="wb-auto" checked' in shown and "<details" not in shown
    folded = diffs.views("k", "S", "U", "a small change, +1 −1")
    assert folded.startswith('<details class="wb-folded"><summary>a small change, +1 −1')
    # a page's placeholder becomes the diff; an unknown one is left alone
    monkeypatch.setitem(diffs._rendered, "k", folded)
    assert diffs.expand("<p><!-- wb-diff:k --></p><!-- wb-diff:gone -->") == \
        f"<p>{folded}</p><!-- wb-diff:gone -->"
