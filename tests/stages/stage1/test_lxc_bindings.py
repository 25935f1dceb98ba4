"""python3-lxc is imported from its two files, without Debian's dist-packages on sys.path."""

from __future__ import annotations

import sys

import pytest

from stages.stage1_lxc import lxc_bindings

MISSING = lxc_bindings.unavailable()


@pytest.mark.skipif(MISSING is not None, reason=f"no python3-lxc: {MISSING}")
def test_the_bindings_load_alone() -> None:
    lxc = lxc_bindings.load()
    assert lxc.__file__ == f"{lxc_bindings.DIST_PACKAGES}/lxc/__init__.py"
    assert sys.modules["_lxc"].__file__.startswith(lxc_bindings.DIST_PACKAGES + "/_lxc.")
    assert lxc_bindings.DIST_PACKAGES not in sys.path
    assert hasattr(lxc.Container, "attach_wait")


def test_the_helper_runs_without_the_project_on_its_path() -> None:
    """`python -I -S lxc_bindings.py`: only the standard library and the bindings."""
    argv = lxc_bindings.argv("start", "/p", "id", "--", "true")
    assert argv[:3] == [sys.executable, "-I", "-S"] and argv[3].endswith("lxc_bindings.py")
