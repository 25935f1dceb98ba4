""".dockerignore: which files of a build context are left out, with moby's rules
(github.com/moby/patternmatcher and its ignorefile package, as vendored by moby).

The file, line by line (ignorefile.ReadAll): a line starting with `#` is a comment,
blank lines are skipped, the rest is trimmed and cleaned like a path (Go's
filepath.Clean: `./a//b/` is `a/b`), a leading `/` is dropped (patterns are relative
to the context's root), and `!` makes an exception.

A pattern matches a path or any of its parent directories, so `docs` leaves out
everything under docs/. `*` and `?` stay inside one path component, `**` crosses any
number of them, `[a-z]` is a class; the LAST pattern that matches decides, so
`*.md` then `!README.md` keeps README.md.

Who applies it: the client. The docker CLI (and docker-py, and ours) tars the context
without the ignored files, but always sends the Dockerfile and .dockerignore themselves
(the CLI adds `!Dockerfile` and `!.dockerignore` exceptions when the patterns match them,
build.TrimBuildFilesFromExcludes), because the daemon needs to read them. The daemon
then only deletes those two from its copy of the context when the patterns match them
(remotecontext/detect.go removeDockerfile), so a COPY . cannot pick them up.
"""

from __future__ import annotations

import functools
import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

import re2

from shared.patterns import BadPattern

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


def clean(path: str) -> str:
    """Go's filepath.Clean on Unix (posixpath.normpath keeps a leading `//`; Go does not)."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def read_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore file (ignorefile.ReadAll)."""
    patterns: list[str] = []
    for number, line in enumerate(text.split("\n")):
        line = line.removesuffix("\r")
        if number == 0:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip()
        if line:
            line = clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append("!" + line if invert else line)
    return patterns


@dataclass
class Pattern:
    """One pattern, compiled as patternmatcher does: an exact name, a prefix (`a/**`),
    a suffix (`**/a`), or else a regular expression (run by RE2, as Go's is: linear
    time whatever the pattern)."""

    text: str
    exclusion: bool
    dirs: int = field(init=False)

    def __post_init__(self) -> None:
        self.dirs = len(self.text.split("/"))

    def match(self, path: str) -> bool:
        kind, value = _compile(self.text)
        if kind == "exact":
            return path == self.text
        if kind == "prefix":
            return path.startswith(self.text[:-2])
        if kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        compiled = _regexp(value)
        return compiled is not None and compiled.search(path) is not None


_SHOULD_ESCAPE = set(".+()|{}$")


def _validate(pattern: str) -> None:
    """Go's filepath.Match syntax check: a trailing `\\`, an unclosed or empty `[...]`,
    a `-` or `]` where a class needs a character (`[-]`, `[x-]`, `[a-b-c]`)."""
    bad = BadPattern("syntax error in pattern")
    i, n = 0, len(pattern)

    def escaped(at: int) -> int:  # getEsc: the index after one class character
        if at >= n or pattern[at] in "-]":
            raise bad
        if pattern[at] == "\\":
            at += 1
            if at >= n:
                raise bad
        if at + 1 >= n:
            raise bad  # the class never closes
        return at + 1

    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise bad
            i += 2
            continue
        if ch == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            ranges = 0
            while True:
                if i < n and pattern[i] == "]" and ranges > 0:
                    i += 1
                    break
                i = escaped(i)
                if pattern[i] == "-":
                    i = escaped(i + 1)
                ranges += 1
            continue
        i += 1


@functools.lru_cache(maxsize=512)
def _compile(pattern: str) -> tuple[str, str]:
    """(kind, regexp) for a cleaned pattern (patternmatcher's Pattern.compile)."""
    out = "^"
    kind = "exact"
    i, n = 0, len(pattern)
    index = 0
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                if i == n:
                    if kind == "exact":
                        kind = "prefix"
                    else:
                        out += ".*"
                        kind = "regexp"
                else:
                    out += "(.*/)?"
                    kind = "regexp"
                if index == 0:
                    kind = "suffix"
            else:
                out += "[^/]*"
                kind = "regexp"
        elif ch == "?":
            out += "[^/]"
            kind = "regexp"
        elif ch in _SHOULD_ESCAPE:
            out += "\\" + ch
        elif ch == "\\":
            if i < n:
                out += "\\" + pattern[i]
                i += 1
                kind = "regexp"
            else:
                out += "\\"
        elif ch in "[]":
            out += ch
            kind = "regexp"
        else:
            out += ch
        index += 1
    return kind, out + "$"


@functools.lru_cache(maxsize=512)
def _regexp(text: str) -> re2._Regexp | None:
    try:
        return re2.compile(text, _OPTIONS)
    except re2.error:
        return None  # Go's ErrBadPattern: matches nothing


class PatternMatcher:
    """The patterns of one .dockerignore, in order (patternmatcher.New)."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns: list[Pattern] = []
        for text in patterns:
            text = text.strip()
            if not text:
                continue
            text = clean(text)
            exclusion = text.startswith("!")
            if exclusion:
                if len(text) == 1:
                    raise BadPattern('illegal exclusion pattern: "!"')
                text = text[1:]
            _validate(text)  # a malformed pattern is an error up front, as in Go
            self.patterns.append(Pattern(text, exclusion))
        self.exclusions = any(p.exclusion for p in self.patterns)

    def matches(self, path: str) -> bool:
        """Whether `path` (relative, cleaned) is left out: the last pattern to match it,
        or its parent directory cut to the pattern's depth, decides (Matches)."""
        matched = False
        parent = posixpath.dirname(path) or "."
        parent_dirs = parent.split("/")
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue  # only a pattern that could change the answer is tried
            match = pattern.match(path)
            if not match and parent != "." and pattern.dirs <= len(parent_dirs):
                match = pattern.match("/".join(parent_dirs[:pattern.dirs]))
            if match:
                matched = not pattern.exclusion
        return matched

    def matches_or_parent_matches(self, path: str) -> bool:
        """Whether `path` or any directory above it is left out
        (MatchesOrParentMatches): the rule for the daemon's own check."""
        path = clean(path)
        if path == ".":
            return False
        matched = False
        parent = posixpath.dirname(path) or "."
        parent_dirs = parent.split("/")
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            match = pattern.match(path)
            if not match and parent != ".":
                match = any(pattern.match("/".join(parent_dirs[:i + 1]))
                            for i in range(len(parent_dirs)))
            if match:
                matched = not pattern.exclusion
        return matched

    def matches_using_parent_results(self, path: str, parent: list[bool] | None
                                     ) -> tuple[bool, list[bool]]:
        """One step of a walk (MatchesUsingParentResults): `parent` holds, per pattern,
        whether it matched the directory above, so ancestors are not matched again."""
        matched = False
        info = [False] * len(self.patterns)
        for i, pattern in enumerate(self.patterns):
            match = parent[i] if parent else False
            if not match:
                if pattern.exclusion != matched:
                    continue
                match = pattern.match(path)
                if not match and not parent:
                    dirname = posixpath.dirname(path)
                    if dirname:
                        dirs = dirname.split("/")
                        match = any(pattern.match("/".join(dirs[:j + 1]))
                                    for j in range(len(dirs)))
            info[i] = match
            if match:
                matched = not pattern.exclusion
        return matched, info


def client_patterns(patterns: list[str], dockerfile: str = "Dockerfile") -> list[str]:
    """The patterns a client tars the context with: the Dockerfile and .dockerignore
    are sent even when ignored (build.TrimBuildFilesFromExcludes)."""
    matcher = PatternMatcher(patterns)
    out = list(patterns)
    for keep in (".dockerignore", clean(dockerfile)):
        if matcher.matches_or_parent_matches(keep):
            out.append("!" + keep)
    return out


def included(root: str, patterns: list[str]) -> Iterator[str]:
    """The relative paths under `root` a client sends, in walk order (go-archive's
    TarWithOptions with ExcludePatterns): a left-out directory is not entered, unless
    an exception (`!dir/file`) names something inside it. Symlinks are listed, never
    followed."""
    matcher = PatternMatcher(patterns)
    yield from _walk(root, "", matcher, None)


def _walk(root: str, rel: str, matcher: PatternMatcher, parent: list[bool] | None
          ) -> Iterator[str]:
    try:
        entries = sorted(os.scandir(os.path.join(root, rel) if rel else root),
                         key=lambda e: e.name)
    except FileNotFoundError:
        return
    for entry in entries:
        path = f"{rel}/{entry.name}" if rel else entry.name
        skip, info = matcher.matches_using_parent_results(path, parent)
        is_dir = stat.S_ISDIR(entry.stat(follow_symlinks=False).st_mode)
        if skip:
            if not is_dir:
                continue
            prefix = path + "/"
            if not matcher.exclusions or not any(
                    (p.text + "/").startswith(prefix) for p in matcher.patterns
                    if p.exclusion):
                continue
            yield from _walk(root, path, matcher, info)  # entered, itself not sent
            continue
        yield path
        if is_dir:
            yield from _walk(root, path, matcher, info)


def daemon_removals(patterns: list[str], dockerfile: str = "Dockerfile") -> list[str]:
    """What the daemon deletes from the context it received: .dockerignore and the
    Dockerfile, each when the patterns match it (removeDockerfile; dockerd 20.10 asks
    fileutils.Matches, the rule of `matches`, where later ones ask
    MatchesOrParentMatches)."""
    matcher = PatternMatcher(patterns)
    out = []
    for name in (".dockerignore", dockerfile):
        name = clean(name)
        if name != "." and matcher.matches(name):
            out.append(name)
    return out
