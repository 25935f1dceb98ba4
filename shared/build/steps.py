"""The builder's view of a Dockerfile: stages of instructions, and the few readings
of an instruction's words that several dispatchers share.

The parsing itself (continuations, escapes, JSON and shell forms) is dockerfile.py's;
variables are substitution.py's; the context's files are context.py's. This module
groups the parsed instructions into stages as moby's instructions.Parse does: the ARGs
before the first FROM are the "meta args", and each FROM starts a stage.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.build import context, dockerfile, substitution
from shared.errors import InvalidParameter


@dataclass
class Instruction:
    keyword: str  # upper case: RUN, COPY...
    args: list[str]
    json_form: bool
    flags: dict[str, str]
    line: int
    original: str

    @property
    def text(self) -> str:
        """The arguments as one string (USER, WORKDIR, MAINTAINER, ONBUILD...)."""
        return " ".join(self.args)


@dataclass
class ParsedStage:
    base: str  # the image, as written (variables not expanded)
    name: str  # "" or the `AS name`, lower case
    platform: str
    source: str  # the FROM line, for "Step 2/5 : FROM busybox AS build"
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Parsed:
    meta_args: list[Instruction]
    stages: list[ParsedStage]


def _instruction(raw: Any) -> Instruction:
    return Instruction(keyword=str(raw.keyword).upper(), args=list(raw.args),
                       json_form=bool(raw.json_form), flags=dict(raw.flags or {}),
                       line=int(raw.line), original=str(raw.original))


def parse(text: str) -> Parsed:
    """The Dockerfile's meta args and stages; a syntax error is a 400 naming the line."""
    try:
        raw = dockerfile.parse(text)
    except dockerfile.DockerfileError as e:
        raise InvalidParameter(str(e)) from None
    instructions = [_instruction(i) for i in getattr(raw, "instructions", raw)]
    meta: list[Instruction] = []
    stages: list[ParsedStage] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            words = ins.args
            name = ""
            if len(words) == 3 and words[1].lower() == "as":
                name = words[2].lower()
            elif len(words) != 1:
                raise InvalidParameter(
                    f"dockerfile parse error line {ins.line}: FROM requires either one or "
                    "three arguments")
            stages.append(ParsedStage(words[0], name, ins.flags.get("platform", ""),
                                      ins.original))
        elif not stages:
            if ins.keyword != "ARG":
                raise InvalidParameter("no build stage in current context")
            meta.append(ins)
        else:
            stages[-1].instructions.append(ins)
    return Parsed(meta, stages)


def expand(word: str, env: dict[str, str]) -> str:
    return substitution.expand(word, env)


def pairs(ins: Instruction) -> list[tuple[str, str]]:
    """ENV and LABEL: `A=1 B="x y"`, or the old one-pair form `A some value`."""
    if ins.args and "=" not in ins.args[0] and len(ins.args) >= 1 and not ins.json_form \
            and all("=" not in a for a in ins.args[:1]):
        if len(ins.args) < 2:
            raise InvalidParameter(f"{ins.keyword} must have two arguments")
        return [(ins.args[0], " ".join(ins.args[1:]))]
    found = []
    for word in ins.args:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise InvalidParameter(f"Syntax error - can't find = in {word!r}. "
                                   "Must be of the form: name=value")
        found.append((key, _unquote(value)))
    return found


def _unquote(value: str) -> str:
    try:
        words = shlex.split(value)
    except ValueError:
        return value
    return " ".join(words) if len(words) == 1 else value


def arg_pairs(ins: Instruction, x: Callable[[str], str]) -> list[tuple[str, str | None]]:
    """ARG NAME or ARG NAME=default (several allowed)."""
    found: list[tuple[str, str | None]] = []
    for word in ins.args:
        key, eq, value = word.partition("=")
        found.append((key, x(_unquote(value)) if eq else None))
    return found


def command(ins: Instruction, shell: list[str]) -> list[str]:
    """RUN, CMD, ENTRYPOINT: the JSON form as written, the shell form under the shell."""
    if ins.json_form:
        return list(ins.args)
    if not ins.args:
        return []
    return [*shell, ins.text]


def go_quoted_list(words: list[str]) -> str:
    """Go's %q of a []string: ["/bin/sh" "-c" "echo hi"], as moby's CMD history shows."""
    return "[" + " ".join(json.dumps(w) for w in words) + "]"


def label_instruction(key: str, value: str) -> Instruction:
    """`docker build --label k=v`: a LABEL appended to the last stage (moby's
    buildLabelOptions)."""
    return Instruction("LABEL", [f"{key}={value}"], False, {}, 0,
                       f'LABEL "{key}"="{value}"')


def sources_digest(root: str, sources: list[str], add: bool) -> str:
    return context.sources_digest(root, sources)


def copy_sources(root: str, sources: list[str], rootfs: str, dest: str, *, chown: str,
                 preserve_owner: bool, unpack: bool) -> None:
    context.copy_sources(root, sources, rootfs, dest, chown=chown,
                         preserve_owner=preserve_owner, unpack=unpack)
