"""The patterns a client sends, matched as dockerd does: regular expressions (the `name`
filter) and shell patterns (the `reference` filter, at the end).

dockerd matches regular expressions with Go's regexp, which is RE2: no backreferences, no
lookaround, and time linear in the text whatever the pattern. Python's `re`
backtracks: `(a+)+$` against thirty a's and one other letter tries some 2**30 ways
and holds a daemon thread (and the engine's lock, in a list) for minutes. So a client's
pattern goes to RE2 itself, through Google's binding (google-re2), and never to `re`.
A pattern RE2 cannot parse matches nothing, as in moby's filters.Args.Match.
"""

from __future__ import annotations

import functools

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a client's typo is not the daemon's error


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re2._Regexp | None:
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error:
        return None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` (RE2 syntax) matches anywhere in `text`; False if invalid."""
    compiled = _compiled(pattern)
    return compiled is not None and compiled.search(text) is not None


# --- shell patterns: Go's path.Match ------------------------------------------------
#
# The `reference` filter of `docker images` (`docker images 'busy*'`) is a shell pattern,
# matched by moby with Go's path.Match: `*` and `?` never cross a `/` (Python's fnmatch
# lets them), `[...]` negates with `^`, `\` escapes. Translated to an RE2 pattern here,
# which also keeps its matching linear.


class BadPattern(ValueError):
    """Go's path.ErrBadPattern: "syntax error in pattern"."""


@functools.lru_cache(maxsize=256)
def _glob_regexp(pattern: str) -> str:
    out, i, n = [], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            i += 1
            if i == n:
                raise BadPattern("syntax error in pattern")
            out.append(re2.escape(pattern[i]))
        elif ch == "[":
            end, body = i + 1, []
            if end < n and pattern[end] == "^":
                body.append("^")
                end += 1
            while end < n and pattern[end] != "]":
                c = pattern[end]
                if c == "\\":
                    end += 1
                    if end == n:
                        raise BadPattern("syntax error in pattern")
                    c = pattern[end]
                    body.append(re2.escape(c))
                elif c == "-" and body and body[-1] != "^" and end + 1 < n \
                        and pattern[end + 1] != "]":
                    body.append("-")
                elif c in "^[]\\":
                    body.append("\\" + c)
                else:
                    body.append(re2.escape(c))
                end += 1
            if end == n or not body or body == ["^"]:
                raise BadPattern("syntax error in pattern")  # unclosed or empty class
            out.append("[" + "".join(body) + "]")
            i = end
        else:
            out.append(re2.escape(ch))
        i += 1
    return "".join(out)


def glob_match(pattern: str, name: str) -> bool:
    """Whether `name` matches the shell pattern as Go's path.Match has it; BadPattern if
    the pattern is malformed."""
    compiled = _compiled("\\A(?:" + _glob_regexp(pattern) + ")\\z")
    return compiled is not None and compiled.search(name) is not None
