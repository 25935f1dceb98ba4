"""The builder's view of a Dockerfile: stages of instructions, and the few readings
of an instruction's words that several dispatchers share.

The parsing itself (continuations, escapes, JSON and shell forms) is dockerfile.py's;
variables are substitution.py's; the context's files are context.py's. This module
groups the parsed instructions into stages as moby's instructions.Parse does: the ARGs
before the first FROM are the "meta args", and each FROM starts a stage.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from shared import goduration
from shared.build import dockerfile
from shared.errors import InvalidParameter

Instruction = dockerfile.Instruction


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
    escape: str = "\\"


def parse(text: str, name: str = "Dockerfile") -> Parsed:
    """The Dockerfile's meta args and stages; a syntax error is a 400 naming the line."""
    try:
        parsed = dockerfile.parse(text, name)
    except dockerfile.DockerfileError as e:
        raise InvalidParameter(str(e)) from None
    stages = [ParsedStage(s.base, s.name or "", s.platform or "",
                          s.source.original if s.source else f"FROM {s.base}",
                          list(s.instructions)) for s in parsed.stages]
    return Parsed(list(parsed.meta_args), stages, parsed.escape)


def text(ins: Instruction) -> str:
    """The one-string argument of MAINTAINER, USER, WORKDIR, STOPSIGNAL, ONBUILD."""
    return ins.args[0] if ins.args else ""


def expand(word: str, env: dict[str, str], escape: str = "\\",
           used: set[str] | None = None) -> str:
    """A word with its variables replaced and its quotes removed (buildkit's
    ProcessWord); a bad substitution fails the step."""
    from shared.build import substitution

    try:
        return substitution.expand(word, env, escape, used)
    except substitution.SubstitutionError as e:
        from shared.build.builder import BuildError

        raise BuildError(str(e)) from None


def expand_words(text: str, env: dict[str, str], escape: str = "\\") -> list[str]:
    """EXPOSE's words, split after expansion (ProcessWords)."""
    from shared.build import substitution

    try:
        return substitution.expand_words(text, env, escape)
    except substitution.SubstitutionError as e:
        from shared.build.builder import BuildError

        raise BuildError(str(e)) from None


def pairs(ins: Instruction) -> list[tuple[str, str]]:
    """ENV's and LABEL's pairs, unexpanded (quotes kept: expand() removes them)."""
    return dockerfile.key_values(ins)


def arg_pairs(ins: Instruction, x: Callable[[str], str]) -> list[tuple[str, str | None]]:
    """ARG NAME or ARG NAME=default (several allowed), the defaults expanded."""
    return [(name, None if default is None else x(default))
            for name, default in dockerfile.arg_definitions(ins)]


def command(ins: Instruction, shell: list[str]) -> list[str]:
    """RUN, CMD, ENTRYPOINT: the JSON form as written, the shell form under the shell."""
    return dockerfile.command_line(ins, shell)


def go_quoted_list(words: list[str]) -> str:
    """Go's %q of a []string: ["/bin/sh" "-c" "echo hi"], as moby's CMD history shows."""
    return "[" + " ".join(json.dumps(w) for w in words) + "]"


def label_instruction(key: str, value: str) -> Instruction:
    """`docker build --label k=v`: a LABEL appended to the last stage (moby's
    buildLabelOptions). Its words are quoted so that expansion leaves them as given."""
    return Instruction("LABEL", [_single_quoted(key), _single_quoted(value)], False, {}, 0,
                       f"LABEL {key}={value}")


def _single_quoted(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def sources_digest(root: str, sources: list[str], add: bool) -> str:
    """The digest of COPY/ADD's sources that their step's cache key names."""
    from shared.build import context

    try:
        return context.sources_digest(root, sources, "ADD" if add else "COPY")
    except context.ContextError as e:
        from shared.build.builder import BuildError

        raise BuildError(str(e)) from None


def destination(workdir: str, dest: str) -> str:
    """A relative destination is under WORKDIR (moby's normalizeDest)."""
    from shared.build import context

    return context.normalize_dest(workdir, dest)


def copy_sources(root: str, sources: list[str], rootfs: str, dest: str, *, chown: str,
                 preserve_owner: bool, unpack: bool) -> None:
    from shared.build import context

    try:
        context.copy_sources(root, sources, rootfs, dest, chown=chown,
                             preserve_owner=preserve_owner, unpack=unpack)
    except context.ContextError as e:
        from shared.build.builder import BuildError

        raise BuildError(str(e)) from None


def go_health(health: dict) -> str:
    """fmt's %+v of dockerd 20.10's *HealthConfig, as HEALTHCHECK's history shows it."""
    return (f"&{{Test:[{' '.join(health.get('Test') or [])}] "
            f"Interval:{goduration.format(int(health.get('Interval') or 0))} "
            f"Timeout:{goduration.format(int(health.get('Timeout') or 0))} "
            f"StartPeriod:{goduration.format(int(health.get('StartPeriod') or 0))} "
            f"Retries:{int(health.get('Retries') or 0)}}}")
