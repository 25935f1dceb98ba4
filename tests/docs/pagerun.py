"""The commands a docs page tells a learner to type, and the output it promises.

A page marks a console block it promises with an HTML comment just before it (a reader
never sees it):

    <!-- wb-run stage=4 -->
    ```console
    $ ./run busybox echo hello
    hello
    ```

`stage=N` says which stage must be running (the test starts it), `cgroup=v1|v2` that
the block only holds on a host of that cgroup version (the other version's block is
shown beside it, in a tab). Lines starting with `$ ` are commands (a trailing `\\` or an
open quote continues one); the lines after a command, up to the next one, are its output, and
must match what it prints, line for line, where `...` inside a line matches any text
and a line that is only `...` matches any number of lines. All the blocks of a page
run in order in one bash, so a variable set in one block is there in the next.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

MARK = re.compile(r"<!--\s*wb-run((?:\s+\w+=[\w.-]+)*)\s*-->\s*\n[ \t]*```console[^\n]*\n"
                  r"(.*?)\n[ \t]*```", re.S)


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    options: dict[str, str]
    steps: list[Step]


def blocks(markdown: str) -> list[Block]:
    found = []
    for m in MARK.finditer(markdown):
        options = dict(pair.split("=", 1) for pair in m.group(1).split())
        found.append(Block(options, steps(_dedent(m.group(2)))))
    return found


def _dedent(body: str) -> list[str]:
    """The block's lines, without the indentation it has inside an admonition or a
    tab (the fence's own indentation)."""
    lines = body.split("\n")
    indents = [len(x) - len(x.lstrip(" ")) for x in lines if x.strip()]
    cut = min(indents, default=0)
    return [x[cut:] for x in lines]


def steps(lines: list[str]) -> list[Step]:
    out: list[Step] = []
    continuing = False
    for line in lines:
        if continuing:
            out[-1].command += "\n" + line
        elif line.startswith("$ "):
            out.append(Step(line[2:]))
        elif out:
            out[-1].expected.append(line.rstrip())
        else:
            raise ValueError(f"output before any command: {line!r}")
        continuing = bool(out) and not out[-1].expected and _unfinished(out[-1].command)
    return out


def _unfinished(command: str) -> bool:
    """A command goes on on the next line after a `\\` or inside an open quote."""
    if command.endswith("\\"):
        return True
    try:
        shlex.split(command)
    except ValueError:  # "No closing quotation"
        return True
    return False


def _line_pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in expected.split("...")) + r"\Z")


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether `actual` is what `expected` promises (doctest's ELLIPSIS, by lines)."""
    while expected and expected[-1] == "":
        expected = expected[:-1]
    while actual and actual[-1] == "":
        actual = actual[:-1]
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and bool(_line_pattern(head).match(actual[0].rstrip())) \
        and matches(rest, actual[1:])


SEPARATOR = "@@wb-step@@"


def script(steps_: list[Step]) -> str:
    """One bash script for the steps, printing a separator before each one's output."""
    parts = ["exec 2>&1"]
    for n, step in enumerate(steps_):
        parts += [f"echo {SEPARATOR}{n}", step.command]
    parts.append(f"echo {SEPARATOR}end")
    return "\n".join(parts) + "\n"


def outputs(printed: str, count: int) -> list[list[str]]:
    """Split a script's output back into each step's lines."""
    found: dict[int, list[str]] = {}
    current: int | None = None
    for line in printed.split("\n"):
        if line.startswith(SEPARATOR):
            tag = line[len(SEPARATOR):]
            current = None if tag == "end" else int(tag)
            if current is not None:
                found[current] = []
        elif current is not None:
            found[current].append(line)
    return [found.get(n, ["(the script stopped before this step)"]) for n in range(count)]
