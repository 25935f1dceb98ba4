"""The regular expressions a client sends (the `name` filter), matched as dockerd does.

dockerd matches them with Go's regexp, which is RE2: no backreferences, no
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
