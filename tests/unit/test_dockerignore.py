"""Unit tests (pure, a temporary directory at most): .dockerignore reading and matching,
shared/build/dockerignore.py.

The tables are moby/patternmatcher's own (patternmatcher_test.go at commit 1d6a3f42:
TestMatches' single- and multi-pattern cases, TestMatch's cases taken from Go's
filepath.Match tests) and ignorefile's reading rules.
"""

from __future__ import annotations

import os

import pytest

from shared.build.dockerignore import (
    PatternMatcher,
    client_patterns,
    daemon_removals,
    included,
    read_patterns,
)
from shared.patterns import BadPattern

EXACT, INEXACT, FAIL = "exact", "inexact", "fail"

# TestMatches: "exact" matches the path itself, "inexact" only through a parent directory.
MATCHES = [
    ("**", "file", EXACT), ("**", "file/", EXACT), ("**/", "file", EXACT),
    ("**/", "file/", EXACT), ("**", "/", EXACT), ("**/", "/", EXACT),
    ("**", "dir/file", EXACT), ("**/", "dir/file", EXACT), ("**", "dir/file/", EXACT),
    ("**/", "dir/file/", EXACT), ("**/**", "dir/file", EXACT), ("**/**", "dir/file/", EXACT),
    ("dir/**", "dir/file", EXACT), ("dir/**", "dir/file/", EXACT),
    ("dir/**", "dir/dir2/file", EXACT), ("dir/**", "dir/dir2/file/", EXACT),
    ("**/dir", "dir", EXACT), ("**/dir", "dir/file", INEXACT),
    ("**/dir2/*", "dir/dir2/file", EXACT), ("**/dir2/*", "dir/dir2/file/", INEXACT),
    ("**/dir2/**", "dir/dir2/dir3/file", EXACT), ("**/dir2/**", "dir/dir2/dir3/file/", EXACT),
    ("**file", "file", EXACT), ("**file", "dir/file", EXACT), ("**/file", "dir/file", EXACT),
    ("**file", "dir/dir/file", EXACT), ("**/file", "dir/dir/file", EXACT),
    ("**/file*", "dir/dir/file", EXACT), ("**/file*", "dir/dir/file.txt", EXACT),
    ("**/file*txt", "dir/dir/file.txt", EXACT), ("**/file*.txt", "dir/dir/file.txt", EXACT),
    ("**/file*.txt*", "dir/dir/file.txt", EXACT), ("**/**/*.txt", "dir/dir/file.txt", EXACT),
    ("**/**/*.txt2", "dir/dir/file.txt", FAIL), ("**/*.txt", "file.txt", EXACT),
    ("**/**/*.txt", "file.txt", EXACT), ("a**/*.txt", "a/file.txt", EXACT),
    ("a**/*.txt", "a/dir/file.txt", EXACT), ("a**/*.txt", "a/dir/dir/file.txt", EXACT),
    ("a/*.txt", "a/dir/file.txt", FAIL), ("a/*.txt", "a/file.txt", EXACT),
    ("a/*.txt**", "a/file.txt", EXACT), ("a[b-d]e", "ae", FAIL), ("a[b-d]e", "ace", EXACT),
    ("a[b-d]e", "aae", FAIL), ("a[^b-d]e", "aze", EXACT), (".*", ".foo", EXACT),
    (".*", "foo", FAIL), ("abc.def", "abcdef", FAIL), ("abc.def", "abc.def", EXACT),
    ("abc.def", "abcZdef", FAIL), ("abc?def", "abcZdef", EXACT), ("abc?def", "abcdef", FAIL),
    ("**/foo/bar", "foo/bar", EXACT), ("**/foo/bar", "dir/foo/bar", EXACT),
    ("**/foo/bar", "dir/dir2/foo/bar", EXACT), ("abc/**", "abc", FAIL),
    ("abc/**", "abc/def", EXACT), ("abc/**", "abc/def/ghi", EXACT), ("**/.foo", ".foo", EXACT),
    ("**/.foo", "bar.foo", FAIL), ("a(b)c/def", "a(b)c/def", EXACT),
    ("a(b)c/def", "a(b)c/xyz", FAIL), ("a.|)$(}+{bc", "a.|)$(}+{bc", EXACT),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", EXACT),
    ("a\\\\", "a\\", EXACT), ("a\\*b", "a*b", EXACT),
]

MULTI = [
    (["**", "!util/docker/web"], "util/docker/web/foo", FAIL),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", EXACT),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", FAIL),
    (["docs", "!docs/README.md"], "docs/README.md", FAIL),
    (["docs/", "!docs/README.md"], "docs/README.md", FAIL),
    (["docs/*", "!docs/README.md"], "docs/README.md", FAIL),
    (["*.go", "!fileutils.go"], "fileutils.go", FAIL),
    (["!fileutils.go", "*.go"], "fileutils.go", EXACT),
]


def _walk_result(matcher: PatternMatcher, text: str) -> bool:
    """MatchesUsingParentResults as a walk calls it: every parent first."""
    parent = os.path.dirname(text)
    info: list[bool] | None = None
    if parent:
        dirs = parent.split("/")
        for i in range(len(dirs)):
            _, info = matcher.matches_using_parent_results("/".join(dirs[:i + 1]), info)
    return matcher.matches_using_parent_results(text, info)[0]


@pytest.mark.parametrize(("pattern", "text", "kind"), MATCHES)
def test_patternmatcher_matches(pattern: str, text: str, kind: str) -> None:
    matcher = PatternMatcher([pattern])
    assert matcher.matches_or_parent_matches(text) == (kind != FAIL)
    assert _walk_result(matcher, text) == (kind != FAIL)


@pytest.mark.parametrize(("patterns", "text", "kind"), MULTI)
def test_patternmatcher_multi(patterns: list[str], text: str, kind: str) -> None:
    matcher = PatternMatcher(patterns)
    assert matcher.matches_or_parent_matches(text) == (kind != FAIL)
    assert _walk_result(matcher, text) == (kind != FAIL)


# TestMatch (Go's filepath.Match cases, through Matches)
@pytest.mark.parametrize(("pattern", "text", "match"), [
    ("abc", "abc", True), ("*", "abc", True), ("*c", "abc", True), ("a*", "a", True),
    ("a*", "abc", True), ("a*", "ab/c", True), ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False), ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False), ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False), ("ab[c]", "abc", True), ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False), ("ab[^c]", "abc", False), ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True), ("a\\*b", "ab", False), ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True), ("a???b", "a☺b", False), ("[a-ζ]*", "α", True),
    ("*[a-ζ]", "A", False), ("a?b", "a/b", False), ("a*b", "a/b", False),
    ("[\\]a]", "]", True), ("[\\-]", "-", True), ("[x\\-]", "-", True),
    ("[\\-x]", "a", False), ("*x", "xxx", True),
])
def test_filepath_match_cases(pattern: str, text: str, match: bool) -> None:
    assert PatternMatcher([pattern]).matches(text) == match


@pytest.mark.parametrize("pattern", ["[]a]", "[-]", "[x-]", "\\", "[a-b-c]", "[", "[^bc",
                                     "a[", "!"])
def test_bad_patterns_are_errors(pattern: str) -> None:
    with pytest.raises(BadPattern):
        PatternMatcher([pattern])


def test_reading_the_file() -> None:
    text = ("\ufeff# a comment\n\n  *.md  \n!README.md\n/abs/path/\n./dot/../x\n"
            "! spaced \n  # not a comment: only at the start of the line\n")
    assert read_patterns(text) == ["*.md", "!README.md", "abs/path", "x", "!spaced",
                                   "# not a comment: only at the start of the line"]


def test_dockerfile_and_dockerignore_are_always_sent(tmp_path) -> None:
    patterns = ["*", "!src"]
    assert client_patterns(patterns) == ["*", "!src", "!.dockerignore", "!Dockerfile"]
    assert client_patterns(["*.md"]) == ["*.md"]
    # ...and the daemon then removes them, when ignored (removeDockerfile)
    assert daemon_removals(patterns) == [".dockerignore", "Dockerfile"]
    assert daemon_removals(["build"], "build/Dockerfile.dev") == ["build/Dockerfile.dev"]
    assert daemon_removals(["*.md"]) == []


def test_included_walks_as_the_client_does(tmp_path) -> None:
    for name in ("a.txt", "b.md", "docs/x.md", "docs/keep/y.md", "node_modules/m/i.js",
                 "src/main.go", "src/gen/z.go"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    os.symlink("/etc", tmp_path / "link")
    patterns = ["*.md", "node_modules", "docs", "!docs/keep", "**/gen"]
    assert list(included(str(tmp_path), patterns)) == [
        "a.txt", "docs/keep", "docs/keep/y.md", "link", "src", "src/main.go"]
