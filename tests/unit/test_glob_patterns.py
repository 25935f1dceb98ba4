"""shared/patterns.py's glob_match against Go's path.Match rules (pure, no daemon)."""

from __future__ import annotations

import pytest

from shared.patterns import BadPattern, glob_match


@pytest.mark.parametrize(("pattern", "name", "matches"), [
    ("busybox", "busybox", True),
    ("busy*", "busybox", True),
    ("*", "user/app", False),  # * stops at a slash, unlike fnmatch
    ("user/*", "user/app", True),
    ("?usybox", "busybox", True),
    ("?", "/", False),
    ("[a-c]usybox", "busybox", True),
    ("[^a-c]usybox", "busybox", False),
    ("[^a-c]usybox", "musybox", True),
    ("x\\*", "x*", True),
    ("x\\*", "xy", False),
    ("a.b", "axb", False),  # a dot is a dot
    ("(a|b)", "a", False),  # and so is everything regexp-like
    ("localhost:5000/*:v?", "localhost:5000/app:v1", True),
])
def test_like_go_path_match(pattern: str, name: str, matches: bool) -> None:
    assert glob_match(pattern, name) is matches


@pytest.mark.parametrize("pattern", ["[", "[]", "[^]", "x\\", "[a\\"])
def test_malformed_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(BadPattern):
        glob_match(pattern, "x")
