"""The Dockerfile parser, with the semantics of moby/buildkit's frontend/dockerfile/parser
and instructions packages, which dockerd's classic builder (DOCKER_BUILDKIT=0) uses too:
as vendored by dockerd 20.10 (buildkit v0.8, eeb7b65a), the reference daemon our
behaviour tests compare with. Where later buildkit differs it is said below.

A Dockerfile is read in two passes, as buildkit does, and the two report errors
differently, as dockerd does:

1. Lines to nodes (parser.Parse): parser directives, continuation lines, comments, each
   instruction's arguments split by its own rule (JSON array, words, key=value pairs).
   An error here is "failed to parse Dockerfile: MESSAGE" (dockerd wraps the parser's
   error with the Dockerfile's name, remotecontext/detect.go readAndParseDockerfile).
2. Nodes to instructions (instructions.Parse): flags checked, argument counts, stages.
   An error here is "dockerfile parse error line N: MESSAGE" (instructions.parseError;
   buildkit 0.10 and later say "on line N" and add "(did you mean RUN?)" suggestions).

One deliberate difference: dockerd 20.10 never checks the flags of ARG, STOPSIGNAL and
HEALTHCHECK NONE (`ARG --x=1 A` builds, the flag ignored); here they are refused like
any unknown flag, as this project never accepts an option to ignore it.

Nothing is expanded here: `$VAR` stays as written, quotes included, because which
variables exist is known only while building (substitution.py does it then).

What each instruction's `args` hold (moby's node arguments):
- RUN, CMD, ENTRYPOINT, SHELL: the JSON array in JSON form; in shell form one string,
  the rest of the line.
- HEALTHCHECK: [TYPE, *command] with the command as above (TYPE is NONE or CMD).
- ADD, COPY, VOLUME: the JSON array, or the whitespace-separated words.
- FROM, EXPOSE: the whitespace-separated words (EXPOSE's sorted, as buildkit does).
- ENV, LABEL: the pairs flattened, [key1, value1, key2, value2, ...], quotes kept (the
  legacy `ENV key the value` gives [key, "the value"]).
- ARG: the words, each `name` or `name=default`, quotes kept.
- MAINTAINER, USER, WORKDIR, STOPSIGNAL: one string, the rest of the line.
- ONBUILD: one string, the trigger expression (the line without ONBUILD), which dockerd
  stores in the image's config; `trigger` holds it parsed.
"""

from __future__ import annotations

import ipaddress
import json
import posixpath
import re
from dataclasses import dataclass, field, replace

from shared import goduration

DEFAULT_SHELL = ["/bin/sh", "-c"]

# The instructions buildkit knows (frontend/dockerfile/command), lower case.
KEYWORDS = ("add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from",
            "healthcheck", "label", "maintainer", "onbuild", "run", "shell",
            "stopsignal", "user", "volume", "workdir")

# The instructions `docker commit --change` accepts (builder/dockerfile/builder.go
# validCommitCommands: dockerd 20.10 has no STOPSIGNAL there, later ones add it).
COMMIT_KEYWORDS = ("cmd", "entrypoint", "healthcheck", "env", "expose", "label",
                   "onbuild", "user", "volume", "workdir")

# The flags buildkit v0.8's parser accepts per instruction, and their kinds (bflag.go):
# a "bool" flag may stand alone, a "string" one needs =value, "strings" repeats. (Later
# buildkit adds --link, --parents, --exclude, --checksum, HEALTHCHECK --start-interval,
# RUN --network/--security/--device: to dockerd 20.10 they are "Unknown flag".)
_FLAGS: dict[str, dict[str, str]] = {
    "add": {"chown": "string", "chmod": "string"},
    "copy": {"chown": "string", "from": "string", "chmod": "string"},
    "from": {"platform": "string"},
    "run": {"mount": "strings"},
    "healthcheck": {"interval": "string", "timeout": "string", "start-period": "string",
                    "retries": "string"},
}

# Flags the parser accepts but the classic builder does not apply: dockerd refuses
# them when it reaches the step ("the --chmod option requires BuildKit", dispatchers.go).
_CLASSIC_FLAGS = {"add": ("chown",), "copy": ("chown", "from"), "from": ("platform",),
                  "healthcheck": ("interval", "timeout", "start-period", "retries")}

_WHITESPACE = re.compile(r"[\t\v\f\r ]+")  # parser.reWhitespace: no \n
# Go's \s is ASCII whitespace only (RE2), and `$` the end of the text.
_DIRECTIVE = re.compile(
    r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z",
    re.DOTALL)
_HEREDOC = re.compile(r"^([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)\Z")
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")
_ONBUILD_PREFIX = re.compile(r"(?i)^\s*ONBUILD\s*")
_MAX_LINE = 64 * 1024  # bufio.MaxScanTokenSize


class DockerfileError(ValueError):
    """A Dockerfile (or a commit change) dockerd would refuse; str() is dockerd's message.
    `line` is the 1-based line it concerns, or 0."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


class RequiresBuildKit(DockerfileError):
    """An instruction flag the classic builder does not apply (raised while building, as
    dockerd does, by check_classic)."""


@dataclass(frozen=True)
class Instruction:
    """One instruction. `keyword` is upper case; `args` as the module docstring says;
    `flags` maps a flag's name (no dashes) to its value ("true" for a bare bool flag);
    `line` is where it starts; `original` is the line as written, continuations joined
    and trimmed (what "Step 1/5 : FROM busybox" prints and the cache key uses)."""

    keyword: str
    args: list[str]
    json_form: bool
    flags: dict[str, str]
    line: int
    original: str
    end_line: int = 0
    trigger: Instruction | None = None  # ONBUILD's instruction, parsed


@dataclass
class Stage:
    """A FROM and the instructions under it. `name` is the `AS name` (lower case, as
    buildkit stores it), `base` the image as written (not yet expanded)."""

    name: str | None
    base: str
    platform: str | None
    instructions: list[Instruction]
    source: Instruction | None = None  # the FROM itself


@dataclass
class Dockerfile:
    directives: dict[str, str]
    escape: str
    meta_args: list[Instruction]  # the ARGs before the first FROM
    stages: list[Stage]
    warnings: list[str] = field(default_factory=list)


# --- characters as Go sees them ------------------------------------------------------

def _is_space(ch: str) -> bool:
    """unicode.IsSpace (Python's isspace also counts \\x1c-\\x1f, which Go does not)."""
    return ch in " \t\n\v\f\r\x85\xa0" or (ord(ch) > 0xff and ch.isspace())


def _trim_space(s: str) -> str:
    start, end = 0, len(s)
    while start < end and _is_space(s[start]):
        start += 1
    while end > start and _is_space(s[end - 1]):
        end -= 1
    return s[start:end]


def _trim_left_space(s: str) -> str:
    i = 0
    while i < len(s) and _is_space(s[i]):
        i += 1
    return s[i:]


def _is_comment(line: str) -> bool:
    return _trim_left_space(line).startswith("#")


# --- pass 1: lines to nodes (parser.go) ----------------------------------------------

class _Directives:
    """Parser directives (`# escape=\\``): only in the comment lines that open the file;
    the first line that is not one (a blank line included) ends them."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.escape = "\\"
        self._continuation = self._continuation_regexp("\\")
        self._done = False

    @staticmethod
    def _continuation_regexp(escape: str) -> re.Pattern[str]:
        # The escape token ends a line to continue it, unless it is itself escaped; the
        # second branch is a token alone on its line (setEscapeToken's regexp).
        e = re.escape(escape)
        return re.compile(rf"([^{e}]){e}[ \t]*\Z|^{e}[ \t]*\Z")

    def offer(self, line: str) -> None:
        if self._done:
            return
        match = _DIRECTIVE.match(line)
        name = match.group(1).lower() if match else ""
        if name not in ("syntax", "escape"):  # buildkit 0.12 adds "check"
            self._done = True
            return
        assert match is not None
        if name in self.values:
            raise DockerfileError(f"only one {name} parser directive can be used")
        value = match.group(2)
        self.values[name] = value
        if name == "escape":
            if value not in ("`", "\\"):
                raise DockerfileError(
                    f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
            self._continuation = self._continuation_regexp(value)

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        """The line without its continuation token, and whether the instruction ends."""
        match = self._continuation.search(line)
        if match is None:
            return line, True
        return line[:match.start()] + (match.group(1) or ""), False


@dataclass
class Node:
    """A line of pass 1 (buildkit's parser.Node, flattened): arguments split by the
    instruction's rule, flags not yet checked, the keyword as written."""

    keyword: str  # as written
    args: list[str]
    json_form: bool
    flags: list[str]
    original: str
    line: int = 0
    end_line: int = 0
    child: Node | None = None  # ONBUILD's


def parse_nodes(text: str) -> list[Node]:
    """Pass 1 alone (buildkit's parser.Parse): the nodes, nothing checked beyond syntax."""
    return _parse_nodes(text)[0]


def dump(node: Node) -> str:
    """A node as buildkit's Node.Dump prints it: `(copy ["--from=a"] "x" "/y")`, the
    form of buildkit's parser test files."""
    out = node.keyword.lower()
    if node.flags:
        out += " [" + " ".join(go_quote(f) for f in node.flags) + "]"
    if node.child is not None:
        return f"{out} ({dump(node.child)})"
    for arg in node.args:
        out += " " + go_quote(arg)
    return out


def go_quote(text: str) -> str:
    """Go's strconv.Quote: printable characters as they are, the rest escaped."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code <= 0xffff:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t", "\v": "\\v"}


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _parse_nodes(text: str) -> tuple[list[Node], _Directives, list[str]]:
    directives = _Directives()
    lines = _split_lines(text)
    nodes: list[Node] = []
    warnings: list[str] = []
    i = 0
    current = 0

    def process(raw: str, strip_left: bool) -> str:
        if len(raw.encode()) + 1 > _MAX_LINE:
            raise DockerfileError(
                f"dockerfile line greater than max allowed size of {_MAX_LINE - 1}", current)
        token = raw.removesuffix("\r")  # bufio.ScanLines drops "\n" and one "\r"
        if strip_left:
            token = _trim_left_space(token)
        directives.offer(token)
        return "" if _is_comment(token) else token

    while i < len(lines):
        raw = lines[i]
        i += 1
        if current == 0:
            raw = raw.removeprefix("\ufeff")
        text_line = process(raw, True)
        current += 1
        start = current
        text_line, ended = directives.trim_continuation(text_line)
        if ended and not text_line:
            continue
        buf = [text_line]
        empty_continuation = False
        while not ended and i < len(lines):
            raw = lines[i]
            i += 1
            part = process(raw, False)
            current += 1
            if _is_comment(raw):
                continue  # a comment inside a continuation is dropped
            if not _trim_left_space(part.rstrip("\r\n")):
                empty_continuation = True
                continue
            part, ended = directives.trim_continuation(part)
            buf.append(part)
        line = "".join(buf)
        if empty_continuation:
            warnings.append("[WARNING]: Empty continuation line found in:\n    " + line)
        try:
            node = _node_from_line(line, directives.escape)
        except DockerfileError as err:
            err.line = err.line or start
            raise
        _refuse_heredoc(node, line, start)
        node.line, node.end_line = start, current
        nodes.append(node)
    if not nodes:
        raise DockerfileError("file with no instructions", current)
    if warnings:
        warnings.append("[WARNING]: Empty continuation lines will become errors in a "
                        "future release.")
    return nodes, directives, warnings


def _node_from_line(line: str, escape: str) -> Node:
    parts = _WHITESPACE.split(_trim_space(line), maxsplit=1)
    keyword, rest = parts[0], ""
    flags: list[str] = []
    if len(parts) == 2:
        rest, flags = _extract_flags(parts[1], escape)
    rest = _trim_space(rest)
    kind = keyword.lower()
    node = Node(keyword, [], False, flags, _trim_space(line))
    if kind in ("run", "cmd", "entrypoint", "shell"):
        node.args, node.json_form = _maybe_json(rest)
    elif kind in ("add", "copy", "volume"):
        node.args, node.json_form = _maybe_json_to_list(rest)
    elif kind in ("from", "expose"):
        node.args = _whitespace_words(rest)
    elif kind in ("env", "label"):
        node.args = _name_values(rest, "LABEL" if kind == "label" else "ENV", escape)
    elif kind == "arg":
        node.args = parse_words(rest, escape)
    elif kind in ("maintainer", "stopsignal", "user", "workdir"):
        node.args = [rest] if rest else []
    elif kind == "healthcheck":
        node.args, node.json_form = _health_args(rest)
    elif kind == "onbuild":
        if rest:
            node.child = _node_from_line(rest, escape)
            node.args = [rest]
    # an unknown keyword keeps no arguments; pass 2 refuses it (parseIgnore)
    return node


def _extract_flags(line: str, escape: str) -> tuple[str, list[str]]:
    """The `--name=value` words that open an instruction's arguments, and the rest
    (split_command.go extractBuilderFlags). `--` alone ends the flags."""
    words: list[str] = []
    pos, n = 0, len(line)
    while True:
        while pos < n and _is_space(line[pos]):
            pos += 1
        if pos == n:
            return "", words
        if not line.startswith("--", pos):
            return line[pos:], words
        word: list[str] = []
        quote = ""
        blank_ok = False
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == escape:
                    if pos + 1 == n:
                        quote = ""
                    else:
                        pos += 1
                        word.append(line[pos])
                else:
                    word.append(ch)
            elif _is_space(ch):
                break
            elif ch in "'\"":
                quote, blank_ok = ch, True
            elif ch == escape:
                if pos + 1 < n:
                    pos += 1
                    word.append(line[pos])
            else:
                word.append(ch)
            pos += 1
        text = "".join(word)
        if text == "--":
            return line[pos:], words
        if blank_ok or text:
            words.append(text)
        if pos == n:
            return "", words


def parse_words(rest: str, escape: str = "\\") -> list[str]:
    """Words separated by whitespace, quotes and escapes kept in the word
    (line_parsers.go parseWords); ARG and ENV's `k=v` form split so."""
    words: list[str] = []
    word: list[str] = []
    in_word = False
    quote = ""
    blank_ok = False
    pos, n = 0, len(rest)
    while pos < n:
        ch = rest[pos]
        if not in_word and not quote:
            if _is_space(ch):
                pos += 1
                continue
            in_word = True
        if quote:
            if ch == quote:
                quote = ""
            if ch == escape and quote != "'":
                if pos + 1 == n:
                    quote = ""
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        if _is_space(ch):
            in_word = False
            if blank_ok or word:
                words.append("".join(word))
            word, blank_ok = [], False
            pos += 1
            continue
        if ch in "'\"":
            quote, blank_ok = ch, True
        if ch == escape:
            if pos + 1 == n:
                pos += 1
                continue
            word.append(ch)
            pos += 1
            ch = rest[pos]
        word.append(ch)
        pos += 1
    if (in_word or quote) and (blank_ok or word):
        words.append("".join(word))
    return words


def _whitespace_words(rest: str) -> list[str]:
    return _WHITESPACE.split(rest) if rest else []


class _NotStrings(Exception):
    pass


def _json_array(rest: str) -> list[str] | None:
    """The JSON array of strings `rest` is, or None if it is no JSON array (shell form
    then). An array holding anything but strings is an error, not shell form."""
    rest = _trim_left_space(rest)
    if not rest.startswith("["):
        return None
    try:
        # Go's json.Decoder reads the first value and leaves what follows: `["a"] b`
        # is the array ["a"] (buildkit 0.10 and later want the whole line to be JSON)
        value, _ = json.JSONDecoder(parse_constant=_refuse_constant).raw_decode(rest)
    except (ValueError, _NotStrings):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise DockerfileError(
            "when using JSON array syntax, arrays must be comprised of strings only")
    return value


def _refuse_constant(name: str) -> None:
    raise _NotStrings(name)  # NaN, Infinity: not JSON to Go


def _maybe_json(rest: str) -> tuple[list[str], bool]:
    if not rest:
        return [], False
    array = _json_array(rest)
    if array is not None:
        return array, True
    return [rest], False


def _maybe_json_to_list(rest: str) -> tuple[list[str], bool]:
    array = _json_array(rest)
    if array is not None:
        return array, True
    return _whitespace_words(rest), False


def _health_args(rest: str) -> tuple[list[str], bool]:
    sep = 0
    while sep < len(rest) and not _is_space(rest[sep]):
        sep += 1
    if sep == 0:
        return [], False
    nxt = sep
    while nxt < len(rest) and _is_space(rest[nxt]):
        nxt += 1
    command, json_form = _maybe_json(rest[nxt:])
    return [rest[:sep], *command], json_form


def _name_values(rest: str, key: str, escape: str) -> list[str]:
    """ENV and LABEL: `name value` (legacy: one pair, the value the rest of the line) or
    `name=value ...` (any number); the first word decides (line_parsers.go parseNameVal).
    Pairs, flattened, as buildkit v0.8's nodes (later ones add a third word, "=" or "")."""
    words = parse_words(rest, escape)
    if not words:
        return []
    if "=" not in words[0]:
        parts = _WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise DockerfileError(f"{key} must have two arguments")
        return [parts[0], parts[1]]
    out: list[str] = []
    for word in words:
        if "=" not in word:
            raise DockerfileError(
                f"Syntax error - can't find = in {json.dumps(word)}. "
                "Must be of the form: name=value")
        name, value = word.split("=", 1)
        out += [name, value]
    return out


def _refuse_heredoc(node: Node, line: str, start: int) -> None:
    """Heredocs (`RUN <<EOF`) are BuildKit's; the classic builder would run the `<<EOF`
    line through the shell and lose the body, so a heredoc is refused by name."""
    target = node.child if node.keyword.lower() == "onbuild" and node.child else node
    if target.keyword.lower() not in ("add", "copy", "run") or target.json_form:
        return
    if "<<" not in line:
        return
    for word in parse_words(line):
        match = _HEREDOC.match(word)
        if match and match.group(3):
            raise DockerfileError(
                f"line {start}: heredocs ({word}) are not supported by the classic "
                "builder: build with BuildKit, or write the file with RUN printf", start)


# --- pass 2: nodes to instructions (instructions/parse.go) ---------------------------

def _parse_flags(node: Node, kind: str) -> dict[str, str]:
    known = _FLAGS.get(kind, {})
    if kind == "healthcheck" and node.args and node.args[0].upper() == "NONE":
        known = {}
    flags: dict[str, str] = {}
    for word in node.flags:  # BFlags.Parse, with buildkit v0.8's words
        if not word.startswith("--"):
            raise DockerfileError(f"Arg should start with -- : {word}")
        if word == "--":
            break
        flag, has_value, value = word[2:].partition("=")
        kind_of = known.get(flag)
        if kind_of is None:
            raise DockerfileError(f"Unknown flag: {flag}")
        if flag in flags and kind_of != "strings":
            raise DockerfileError(f"Duplicate flag specified: {flag}")
        if kind_of == "bool":
            if has_value and value == "":
                raise DockerfileError(f"Missing a value on flag: {flag}")
            if value.lower() not in ("true", "false", ""):
                raise DockerfileError(
                    f"Expecting boolean value for flag {flag}, not: {value}")
            flags[flag] = "false" if value.lower() == "false" else "true"
        else:
            if not has_value:
                raise DockerfileError(f"Missing a value on flag: {flag}")
            flags[flag] = value  # a repeated "strings" flag keeps its last value here
    return flags


def _instruction(node: Node) -> Instruction:
    """Pass 2 for one node: the checks instructions/parse.go makes (messages as there)."""
    kind = node.keyword.lower()
    upper = node.keyword.upper()
    args = node.args
    if kind not in KEYWORDS:
        raise DockerfileError(f"unknown instruction: {upper}")
    exactly_one = ("maintainer", "workdir", "user", "stopsignal")
    at_least_one = ("env", "label", "onbuild", "healthcheck", "expose", "volume", "arg",
                    "shell")
    if kind in exactly_one and len(args) != 1:
        raise DockerfileError(f"{upper} requires exactly one argument")
    if kind in at_least_one and not args:
        raise DockerfileError(f"{upper} requires at least one argument")
    if kind in ("add", "copy") and len(args) < 2:
        raise DockerfileError(f"{upper} requires at least two arguments, but only one was "
                              "provided. Destination could not be determined")
    if kind == "from":
        _stage_name(args)
    flags = _parse_flags(node, kind)
    if kind in ("env", "label"):
        for name in args[0::2]:
            if not name:
                raise DockerfileError(f"{upper} names can not be blank")
    if kind == "arg":
        for word in args:
            if word.startswith("="):
                raise DockerfileError("ARG names can not be blank")
    if kind == "volume":
        if any(not _trim_space(v) for v in args):
            raise DockerfileError("VOLUME specified can not be an empty string")
        args = [_trim_space(v) for v in args]
    if kind == "expose":
        args = sorted(args)
    if kind == "shell" and not node.json_form:
        raise DockerfileError("SHELL requires the arguments to be in JSON form")
    trigger = None
    if kind == "onbuild":
        assert node.child is not None
        inner = node.child.keyword.upper()
        if inner == "ONBUILD":
            raise DockerfileError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        if inner in ("MAINTAINER", "FROM"):
            raise DockerfileError(f"{inner} isn't allowed as an ONBUILD trigger")
        args = [_ONBUILD_PREFIX.sub("", node.original, count=1)]
        # dockerd checks the trigger itself only when a child image builds FROM this
        # one (dispatchTriggeredOnBuild); parsed here for reading, never refused here
        try:
            trigger = _instruction(replace(node.child, line=node.line,
                                           end_line=node.end_line))
        except DockerfileError:
            trigger = None
    instruction = Instruction(upper, args, node.json_form, flags, node.line,
                              node.original, node.end_line, trigger)
    if kind == "healthcheck":
        healthcheck(instruction)
    return instruction


def _stage_name(args: list[str]) -> str | None:
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise DockerfileError(
                f"invalid name for build stage: {json.dumps(args[2])}, name can't start "
                "with a number or contain symbols")
        return name
    if len(args) != 1:
        raise DockerfileError("FROM requires either one or three arguments")
    return None


def parse(text: str, name: str = "Dockerfile") -> Dockerfile:
    """Parse a Dockerfile as dockerd's classic builder does; `name` is the Dockerfile's
    path in the context, which dockerd's first-pass errors name."""
    if text == "":
        raise DockerfileError(f"the Dockerfile ({name}) cannot be empty")
    try:
        nodes, directives, warnings = _parse_nodes(text)
    except DockerfileError as err:
        raise DockerfileError(f"failed to parse {name}: {err}", err.line) from None
    meta_args: list[Instruction] = []
    stages: list[Stage] = []
    for node in nodes:
        try:
            instruction = _instruction(node)
        except DockerfileError as err:
            raise DockerfileError(
                f"dockerfile parse error line {node.line}: {err}", node.line) from None
        if instruction.keyword == "FROM":
            stages.append(Stage(_stage_name(instruction.args), instruction.args[0],
                                instruction.flags.get("platform"), [], instruction))
        elif not stages and instruction.keyword == "ARG":
            meta_args.append(instruction)
        elif not stages:
            raise DockerfileError("no build stage in current context", node.line)
        else:
            stages[-1].instructions.append(instruction)
    return Dockerfile(directives.values, directives.escape, meta_args, stages, warnings)


def parse_changes(changes: list[str]) -> list[Instruction]:
    """`docker commit --change` lines as dockerd reads them (builder.go
    BuildFromConfig): joined into one Dockerfile, each instruction one commit allows."""
    if not changes:
        return []
    nodes, _, _ = _parse_nodes("\n".join(changes))
    out = []
    for node in nodes:
        if node.keyword.lower() not in COMMIT_KEYWORDS:
            # buildkit keeps the keyword lower-cased: "run is not a valid change command"
            raise DockerfileError(f"{node.keyword.lower()} is not a valid change command",
                                  node.line)
        out.append(_instruction(node))
    return out


def parse_change(text: str) -> Instruction:
    """One `--change` instruction (see parse_changes)."""
    instructions = parse_changes([text])
    if len(instructions) != 1:
        raise DockerfileError("onbuild trigger should be a single expression")
    return instructions[0]


def check_classic(instruction: Instruction) -> None:
    """Refuse, as dockerd's classic builder does when it reaches the step, a flag it does
    not apply: "the --chmod option requires BuildKit..." (dispatchers.go). dockerd
    ignores --link, --parents, --exclude, --checksum... silently; we refuse those too."""
    allowed = _CLASSIC_FLAGS.get(instruction.keyword.lower(), ())
    for flag in instruction.flags:
        if flag not in allowed:
            raise RequiresBuildKit(
                f"the --{flag} option requires BuildKit. Refer to "
                "https://docs.docker.com/go/buildkit/ to learn how to build images with "
                "BuildKit enabled", instruction.line)


# --- instruction arguments that need no container ------------------------------------

def key_values(instruction: Instruction) -> list[tuple[str, str]]:
    """ENV's or LABEL's pairs, as written (expand each word with substitution.expand)."""
    args = instruction.args
    return [(args[i], args[i + 1]) for i in range(0, len(args) - 1, 2)]


def arg_definitions(instruction: Instruction) -> list[tuple[str, str | None]]:
    """ARG's `name[=default]` words as (name, default or None), unexpanded."""
    out: list[tuple[str, str | None]] = []
    for word in instruction.args:
        name, has_default, default = word.partition("=")
        out.append((name, default if has_default else None))
    return out


def command_line(instruction: Instruction, shell: list[str] | None = None) -> list[str]:
    """RUN, CMD or ENTRYPOINT's argv: the JSON array, or the shell form run by SHELL
    (`/bin/sh -c` unless the Dockerfile set one) as dockerd's resolveCmdLine does."""
    args = instruction.args
    if instruction.keyword == "HEALTHCHECK":
        args = args[1:]
    if instruction.json_form:
        return list(args)
    if not args:
        return []
    return [*(shell or DEFAULT_SHELL), " ".join(args)]


def workdir(current: str, requested: str) -> str:
    """WORKDIR's new directory (normalizeWorkdir): a relative path joins the current
    one, cleaned; an absolute one is kept as written."""
    if not requested:
        raise DockerfileError("cannot normalize nothing")
    if requested.startswith("/"):
        return requested
    return posixpath.normpath(posixpath.join("/", current or "/", requested))


def _port_range(text: str) -> tuple[int, int]:
    """go-connections' ParsePortRange: `80` or `8000-8010`, each a uint16."""
    if not text:
        raise ValueError("Empty string specified for ports.")
    parts = text.split("-")
    if not all(p.isascii() and p.isdigit() and int(p) < 65536 for p in parts[:2]):
        raise ValueError(text)
    start, end = int(parts[0]), int(parts[1] if len(parts) > 1 else parts[0])
    if end < start:
        raise ValueError(f"Invalid range specified for the Port: {text}")
    return start, end


def exposed_ports(words: list[str]) -> list[str]:
    """EXPOSE's words, expanded, as the keys of ExposedPorts ("80/tcp"), in order: Go's
    nat.ParsePortSpecs as dockerd 20.10 vendors it. A range gives every port of it;
    `[ip:][hostport:]port` is accepted and only the port kept."""
    out: list[str] = []
    for raw in words:
        parts = raw.split(":")
        container = parts[-1]
        host = parts[-2] if len(parts) > 1 else ""
        ip = ":".join(parts[:-2]).removeprefix("[").removesuffix("]")
        port, _, proto = container.partition("/")
        proto = (proto.partition("/")[0] or "tcp") if port else ""
        if ip:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                raise DockerfileError(f"Invalid ip address: {ip}") from None
        if not port:
            raise DockerfileError(f"No port specified: {raw}<empty>")
        try:
            start, end = _port_range(port)
        except ValueError:
            raise DockerfileError(f"Invalid containerPort: {port}") from None
        if host:
            try:
                host_start, host_end = _port_range(host)
            except ValueError:
                raise DockerfileError(f"Invalid hostPort: {host}") from None
            if end - start != host_end - host_start and end != start:
                raise DockerfileError("Invalid ranges specified for container and host "
                                      f"Ports: {port} and {host}")
        if proto.lower() not in ("tcp", "udp", "sctp"):
            raise DockerfileError(f"Invalid proto: {proto}")
        for number in range(start, end + 1):
            key = f"{number}/{proto.lower()}"
            if key not in out:
                out.append(key)
    return out


def shell_of(instruction: Instruction) -> list[str]:
    """SHELL's array (parse already refused the shell form)."""
    return list(instruction.args)


def go_duration(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds ("1m30s", "1.5h", "300ms")."""
    return goduration.parse(text)


def _interval(flags: dict[str, str], name: str) -> int:
    value = flags.get(name, "")
    if not value:
        return 0
    duration = go_duration(value)
    if duration == 0:
        return 0
    if duration < 1_000_000:
        raise DockerfileError(f'Interval "{name}" cannot be less than 1ms')
    return duration


def healthcheck(instruction: Instruction) -> dict[str, object]:
    """HEALTHCHECK as the image config's Healthcheck dockerd stores (durations in ns,
    zero fields left out as Go's omitempty does)."""
    kind = instruction.args[0].upper()
    rest = instruction.args[1:]
    if kind == "NONE":
        if rest:
            raise DockerfileError("HEALTHCHECK NONE takes no arguments")
        return {"Test": ["NONE"]}
    if kind != "CMD":
        raise DockerfileError(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    if instruction.json_form:
        command = list(rest)
    else:
        command = [" ".join(rest)] if rest else []
    if not command:
        raise DockerfileError("Missing command after HEALTHCHECK CMD")
    config: dict[str, object] = {
        "Test": ["CMD" if instruction.json_form else "CMD-SHELL", *command]}
    try:
        for flag, key in (("interval", "Interval"), ("timeout", "Timeout"),
                          ("start-period", "StartPeriod")):
            value = _interval(instruction.flags, flag)
            if value:
                config[key] = value
    except ValueError as err:
        raise DockerfileError(str(err)) from None
    retries = instruction.flags.get("retries", "")
    if retries:
        count = int(retries, 10) if re.fullmatch(r"[+-]?[0-9]+", retries) else None
        if count is None:
            raise DockerfileError(f'strconv.ParseInt: parsing "{retries}": invalid syntax')
        if not -2**31 <= count < 2**31:
            raise DockerfileError(
                f'strconv.ParseInt: parsing "{retries}": value out of range')
        if count < 1:  # buildkit 0.10 and later allow 0
            raise DockerfileError(f"--retries must be at least 1 (not {count})")
        config["Retries"] = count
    return config
