"""libcontainer's record.py: configs.py's @dataclass at run time (plain unit tests)."""

from __future__ import annotations

import copy

import pytest

from stages.stage2_libcontainer.libcontainer import configs
from stages.stage2_libcontainer.libcontainer.record import dataclass, field


@dataclass
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


def test_fields_by_position_or_name_with_defaults() -> None:
    p = Point(1, tags=["a"])
    assert (p.x, p.y, p.tags) == (1, 0, ["a"])
    assert Point(x=2, y=3).y == 3


def test_a_default_factory_makes_one_value_per_object() -> None:
    a, b = Point(1), Point(1)
    a.tags.append("x")
    assert b.tags == []
    assert not hasattr(Point, "tags")


def test_equal_and_repr_by_fields_as_dataclasses() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    assert repr(Point(1)) == "Point(x=1, y=0, tags=[])"
    with pytest.raises(TypeError):
        hash(Point(1))


def test_bad_arguments_are_type_errors() -> None:
    with pytest.raises(TypeError, match="missing"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, 2, [], 4)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, z=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, x=2)  # type: ignore[misc]


def test_configs_use_it_and_copy_shallowly() -> None:
    r = configs.Resources(memory=1, pids_limit=5)
    c = copy.copy(r)
    c.pids_limit = 0
    assert (r.pids_limit, c.pids_limit, c.memory) == (5, 0, 1)
    assert "dataclasses" not in type(r).__init__.__module__
