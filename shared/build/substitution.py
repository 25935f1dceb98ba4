"""Variable substitution in Dockerfile words, as buildkit's shell lexer does it
(frontend/dockerfile/shell/lex.go), which dockerd's classic builder uses too.

It looks like a shell's but is not one: no command substitution, no globbing, no word
splitting except where an instruction asks for words (EXPOSE), and quotes are removed.
The forms dockerd 20.10 knows (its vendored buildkit v0.8, our reference daemon):

    $VAR ${VAR}          the value, or "" when unset
    ${VAR:-word}         word if VAR is unset or empty
    ${VAR:+word}         word if VAR is set and not empty
    ${VAR:?msg}          an error if VAR is unset or empty  (${VAR?msg}: if unset)

Anything else in braces is refused: "missing ':' in substitution" (${VAR-word},
${VAR#pat}, ${VAR/a/b}), "unsupported modifier (x) in substitution" (${VAR:x}).
Newer buildkit (dockerd 23 and later) adds, with `newer=True` here:

    ${VAR-word} ${VAR+word}          the same tests, "unset" only
    ${VAR#pat} ${VAR##pat}           VAR less its shortest/longest prefix matching pat
    ${VAR%pat} ${VAR%%pat}           the same for a suffix
    ${VAR/pat/rep} ${VAR//pat/rep}   the first/every match of pat replaced

Quotes: '...' keeps everything literal; "..." keeps text but still expands $ and
honours the escape character before ", $ and itself; outside quotes the escape
character makes the next character literal (and is dropped).

Which instructions expand (dockerd's dispatch, evaluator.go): ENV, LABEL, ARG, ADD and
COPY (sources, destination, --chown, --chmod), WORKDIR, USER, VOLUME, STOPSIGNAL, EXPOSE
(into several words), FROM (with the ARGs before the first FROM only) and its
--platform. Not RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER or ONBUILD: a shell
form RUN is expanded by /bin/sh in the container, with the build args in its env.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping

EXPANDING_INSTRUCTIONS = frozenset({"ADD", "ARG", "COPY", "ENV", "EXPOSE", "FROM", "LABEL",
                                    "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"})

_EOF = ""


class SubstitutionError(ValueError):
    """A word the lexer refuses; str() is dockerd's message ('failed to process "${a":
    syntax error: missing '}'')."""


class _Failure(Exception):
    pass


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # strconv.Quote, near enough


def _is_space(ch: str) -> bool:
    return ch in " \t\n\v\f\r\x85\xa0" or (len(ch) == 1 and ord(ch) > 0xff and ch.isspace())


def _is_digit(ch: str) -> bool:
    return unicodedata.category(ch) == "Nd"


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


class _Words:
    """The words of a ProcessWords call: expanded text splits at whitespace, quoted and
    escaped text never does."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.buf: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if _is_space(ch):
            if self.in_word and self.buf:
                self.words.append("".join(self.buf))
                self.buf, self.in_word = [], False
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def result(self) -> list[str]:
        if self.buf and "".join(self.buf):
            self.words.append("".join(self.buf))
            self.buf, self.in_word = [], False
        return self.words


class _Lexer:
    def __init__(self, word: str, env: Mapping[str, str], escape: str,
                 used: set[str] | None, newer: bool = False) -> None:
        self.newer = newer
        self.text = word
        self.pos = 0
        self.env = env
        self.escape = escape
        self.used = used
        self.raw_escapes = False

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else _EOF

    def next(self) -> str:
        ch = self.peek()
        if ch:
            self.pos += 1
        return ch

    def lookup(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            if self.used is not None:
                self.used.add(name)
            return self.env[name], True
        return "", False

    def process(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        """Read up to `stop` (consumed; _EOF for the end), returning the text and its
        words (processStopOn)."""
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._process(stop)
        finally:
            self.raw_escapes = saved

    def _process(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        while self.peek() != _EOF:
            ch = self.peek()
            if stop and ch == stop:
                self.next()
                return "".join(result), words.result()
            if ch == "$":
                value = self.dollar()
                result.append(value)
                words.add_string(value)
            elif ch == "<" and self.newer:
                value = self.possible_heredoc()
                result.append(value)
                words.add_raw(value)
            elif ch == "'":
                value = self.single_quote()
                result.append(value)
                words.add_raw(value)
            elif ch == '"':
                value = self.double_quote()
                result.append(value)
                words.add_raw(value)
            else:
                ch = self.next()
                if ch == self.escape:
                    if self.raw_escapes:
                        words.add_raw(ch)
                        result.append(ch)
                    ch = self.next()
                    if ch == _EOF:
                        break
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                result.append(ch)
        if stop:
            raise _Failure(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.result()

    def single_quote(self) -> str:
        self.next()
        out: list[str] = []
        while True:
            ch = self.next()
            if ch == _EOF:
                raise _Failure(
                    "unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                return "".join(out)
            out.append(ch)

    def double_quote(self) -> str:
        self.next()
        out: list[str] = []
        while True:
            ch = self.peek()
            if ch == _EOF:
                raise _Failure(
                    "unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.next()
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            ch = self.next()
            if ch == self.escape:
                if self.raw_escapes:
                    out.append(ch)
                following = self.peek()
                if following == _EOF:
                    continue
                if following in ('"', "$", self.escape):
                    ch = self.next()
            out.append(ch)

    def possible_heredoc(self) -> str:
        self.next()
        if self.peek() != "<":
            return "<"
        self.next()
        space = []
        while self.peek() in ("\t", "\r", " ") and self.peek():
            space.append(self.next())
        return "<<" + "".join(space)

    def name(self) -> str:
        out: list[str] = []
        while self.peek() != _EOF:
            ch = self.peek()
            if not out and _is_digit(ch):
                while self.peek() != _EOF and _is_digit(self.peek()):
                    out.append(self.next())
                return "".join(out)
            if not out and ch in "@*#?-$!0":
                return self.next()
            if not _is_letter(ch) and not _is_digit(ch) and ch != "_":
                break
            out.append(self.next())
        return "".join(out)

    def dollar(self) -> str:
        if not self.newer:
            return self.dollar_v08()
        self.next()
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            return self.lookup(name)[0]
        self.next()
        if self.peek() == _EOF:
            raise _Failure("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise _Failure("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        modifier = ch or "\ufffd"  # Go prints the EOF rune so
        if ch == "}":
            return self.lookup(name)[0]
        null_is_unset = False
        if ch == ":":
            null_is_unset = True
            ch = self.next()
            modifier += ch or "\ufffd"
        if ch == "/" and not null_is_unset:
            return self.replace(name)
        if null_is_unset or ch in ("+", "-", "?", "#", "%"):
            raw = ch in ("#", "%")
            if null_is_unset and raw:
                raise _Failure(f"unsupported modifier ({modifier}) in substitution")
            try:
                word, _ = self.process("}", raw)
            except _Failure:
                if self.peek() == _EOF:
                    raise _Failure("syntax error: missing '}'") from None
                raise
            value, is_set = self.lookup(name)
            empty = not is_set or (null_is_unset and value == "")
            if ch == "-":
                return word if empty else value
            if ch == "+":
                return "" if empty else word
            if ch == "?":
                if not is_set:
                    raise _Failure(f"{name}: {word or 'is not allowed to be unset'}")
                if null_is_unset and value == "":
                    raise _Failure(f"{name}: {word or 'is not allowed to be empty'}")
                return value
            if ch in ("#", "%"):
                greedy = word.startswith(ch)
                if greedy:
                    word = word[1:]
                if ch == "%":
                    return _trim_suffix(word, value, greedy)
                return _trim_prefix(word, value, greedy)
        raise _Failure(f"unsupported modifier ({modifier}) in substitution")

    def dollar_v08(self) -> str:
        """processDollar of buildkit v0.8 (dockerd 20.10): only ?, :-, :+ and :?."""
        self.next()
        if self.peek() != "{":
            name = self.name()
            return self.lookup(name)[0] if name else "$"
        self.next()
        if self.peek() == _EOF:
            raise _Failure("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise _Failure("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            return self.lookup(name)[0]
        if ch not in ("?", ":"):
            raise _Failure("missing ':' in substitution")
        modifier = self.next() if ch == ":" else "?"
        try:
            word, _ = self.process("}", False)
        except _Failure:
            if self.peek() == _EOF:
                raise _Failure("syntax error: missing '}'") from None
            raise
        value, found = self.lookup(name)
        if ch == "?":
            if not found:
                raise _Failure(f"{name}: {word or 'is not allowed to be unset'}")
            return value
        if modifier == "+":
            return word if value != "" else value
        if modifier == "-":
            return word if value == "" else value
        if modifier == "?":
            if not found:
                raise _Failure(f"{name}: {word or 'is not allowed to be unset'}")
            if value == "":
                raise _Failure(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        raise _Failure(f"unsupported modifier ({modifier or chr(0xfffd)}) in substitution")

    def replace(self, name: str) -> str:
        replace_all = self.peek() == "/"
        if replace_all:
            self.next()
        try:
            pattern, _ = self.process("/", True)
        except _Failure:
            if self.peek() == _EOF:
                raise _Failure("syntax error: missing '/' in ${}") from None
            raise
        try:
            replacement, _ = self.process("}", True)
        except _Failure:
            if self.peek() == _EOF:
                raise _Failure("syntax error: missing '}'") from None
            raise
        value, _ = self.lookup(name)
        regexp = _pattern_regexp(pattern, greedy=True, anchored=False)
        # the replacement is literal text (Go's would expand $1, which cannot match:
        # the pattern has no groups)
        if replace_all:
            return regexp.sub(lambda _m: replacement, value)
        match = regexp.search(value)
        if match is None:
            return value
        return value[:match.start()] + replacement + value[match.end():]


def _pattern_regexp(pattern: str, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """A shell pattern (* ? and \\ escapes) as a regular expression
    (convertShellPatternToRegex)."""
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    while i < len(pattern):
        tok = pattern[i]
        i += 1
        if tok == "*":
            out.append(star)
            continue
        if tok == "?":
            out.append(".")
            continue
        if tok == "\\":
            following = pattern[i] if i < len(pattern) else ""
            if following in ("}", "/"):
                continue
            tok = following
            i += 1
            if tok not in ("*", "?", "\\"):
                raise _Failure(f"invalid pattern ({pattern}) in substitution: "
                               f"invalid escape '\\{tok or chr(0xfffd)}'")
            out.append("\\" + tok)
            continue
        out.append(re.escape(tok) if tok in "[]{}.+()|^$" else tok)
    return re.compile("".join(out))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = _pattern_regexp(pattern, greedy, anchored=True).search(value)
    return value[match.end():] if match else value


def _reverse_pattern(pattern: str) -> str:
    out = [""] * len(pattern)
    last = len(pattern) - 1
    i = 0
    while i <= last:
        tok = pattern[i]
        at = last - i
        if tok == "\\" and i != last:
            out[at - 1] = tok
            out[at] = pattern[i + 1]
            i += 2
        else:
            out[at] = tok
            i += 1
    return "".join(out)


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]


def _run(word: str, env: Mapping[str, str], escape: str, used: set[str] | None,
         newer: bool) -> tuple[str, list[str]]:
    lexer = _Lexer(word, env, escape, used, newer)
    try:
        return lexer.process(_EOF, False)
    except _Failure as err:
        raise SubstitutionError(f"failed to process {_go_quote(word)}: {err}") from None


def expand(word: str, env: Mapping[str, str], escape: str = "\\",
           used: set[str] | None = None, newer: bool = False) -> str:
    """One word expanded (ProcessWord): variables replaced, quotes and escapes removed.
    Names found in `env` are added to `used` (the builder's "consumed build args");
    `newer`: buildkit's later forms too (see the module docstring)."""
    return _run(word, env, escape, used, newer)[0]


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\",
                 used: set[str] | None = None, newer: bool = False) -> list[str]:
    """Text expanded and split into words (ProcessWords): EXPOSE $PORTS with
    PORTS="80 443" gives two ports; quoted or escaped spaces do not split."""
    return _run(text, env, escape, used, newer)[1]


def env_map(env: list[str]) -> dict[str, str]:
    """A container config's Env list ("K=V") as the lexer's mapping; the last wins."""
    out: dict[str, str] = {}
    for item in env:
        key, _, value = item.partition("=")
        out[key] = value
    return out
