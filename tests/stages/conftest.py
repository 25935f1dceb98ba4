"""Every test of the stages: no cgroup of ours is left behind it.

A cgroup directory lasts until someone removes it: a runtime cut short (a containerd or
a shim killed before `delete`) leaves one in every hierarchy, empty, and nothing else
would notice. Each test's own checks look at its engine or its containers; this one
looks at every hierarchy's `whalebones` parent, v1 and unified (tests/engines.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.engines import cgroup_dirs, cgroups_left, remove_cgroups


@pytest.fixture(autouse=True)
def no_cgroup_left() -> Iterator[None]:
    before = set(cgroup_dirs())
    yield
    left = cgroups_left(before)
    remove_cgroups(left)  # the next test starts clean
    assert not left, f"cgroups left: {left}"
