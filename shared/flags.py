"""Command-line flags the way the docker CLI reads them.

Docker's CLI (Go's cobra + pflag) has one rule that `argparse` handles badly: for
`run`, `create` and `exec`, flags end at the first non-flag argument. In

    docker run -i busybox ls -l

`-l` belongs to `ls`, not to docker. Everything after IMAGE is the container's
command line, untouched. Other verbs allow flags anywhere (`docker rm x -f`).

Also as pflag: short flags combine (`-it`), values attach (`-eA=1`, `--name=x`) or
follow (`-e A=1`, `--name x`), and `--` ends the flags. Being ~100 lines, this is
also cheaper to import than argparse, which matters for start-up time: besides our
docker CLI, whalebones-runc and the shim read their flags with it (with
`interspersed=False`, the rule of runc's urfave/cli for every verb), and those are
started once per container operation.
"""

from __future__ import annotations

# Not typing's TYPE_CHECKING: `typing` is imported by none of the short-lived programs
# that use this parser (the client, runc's verbs, the shim) and would add ~2 ms to each
# (python3 -X importtime, beside what they import anyway; ~10 ms alone).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class UsageError(Exception):
    """Bad command line; docker prints these with a usage hint and exits 125."""


class Flag:
    """One option. `names` reads like docker's help: "-e, --env" or "--rm".

    A flag with a `metavar` takes a value; without one it is a boolean switch.
    `many` collects repeated values into a list (`-e A=1 -e B=2`). `convert`
    turns the text into the value commands see, raising ValueError when invalid.
    """

    def __init__(
        self,
        names: str,
        help: str,
        *,
        metavar: str = "",
        many: bool = False,
        default: Any = None,
        convert: Callable[[str], Any] | None = None,
    ) -> None:
        self.names = [name.strip() for name in names.split(",")]
        self.help = help
        self.metavar = metavar
        self.many = many
        self.convert = convert
        long_names = [name for name in self.names if name.startswith("--")]
        self.dest = (long_names or self.names)[0].lstrip("-").replace("-", "_")
        if default is None:
            default = [] if many else (None if metavar else False)
        self.default = default

    @property
    def takes_value(self) -> bool:
        return bool(self.metavar)

    def describe(self) -> str:
        """`-m, --memory bytes`, padded like docker's help for a missing short name."""
        text = ", ".join(self.names)
        if self.names[0].startswith("--"):
            text = "    " + text
        return f"{text} {self.metavar}".rstrip()


class Command:
    """What a verb accepts: its flags, how many arguments, and its help text."""

    def __init__(
        self,
        name: str,
        usage: str,
        summary: str,
        flags: list[Flag],
        *,
        min_args: int = 0,
        max_args: int | None = None,
        interspersed: bool = True,
    ) -> None:
        self.name = name
        self.usage = usage
        self.summary = summary
        self.flags = flags
        self.min_args = min_args
        self.max_args = max_args
        self.interspersed = interspersed
        self._by_name = {name: flag for flag in flags for name in flag.names}

    def help_text(self, program: str) -> str:
        # (A program's own command, like runc's global one, has no name of its own.)
        usage = " ".join(part for part in (program, self.name, self.usage) if part)
        lines = [f"Usage:  {usage}", "", self.summary]
        if self.flags:
            width = max(len(flag.describe()) for flag in self.flags) + 3
            lines += ["", "Options:"]
            lines += [f"  {flag.describe():<{width}}{flag.help}" for flag in self.flags]
        return "\n".join(lines) + "\n"

    def parse(self, args: list[str]) -> tuple[dict[str, Any], list[str]]:
        """Split `args` into ({dest: value}, positional arguments). --help gives {"help": True}."""
        values: dict[str, Any] = {flag.dest: _copy(flag.default) for flag in self.flags}
        positional: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                positional += args[i:]
                break
            if arg == "--help" or (arg == "-h" and "-h" not in self._by_name):
                return {"help": True}, []
            if arg.startswith("--"):
                name, has_value, value = arg.partition("=")
                flag = self._by_name.get(name)
                if flag is None:
                    raise UsageError(f"unknown flag: {name}")
                if flag.takes_value and not has_value:
                    if i == len(args):
                        raise UsageError(f"flag needs an argument: {name}")
                    value, i = args[i], i + 1
                self._store(values, flag, value if flag.takes_value else _boolean(flag, value))
            elif arg.startswith("-") and arg != "-":
                # A cluster of short flags: -it, -e FOO=1, -eFOO=1, -d=true.
                letters = arg[1:]
                while letters:
                    letter, letters = letters[0], letters[1:]
                    flag = self._by_name.get("-" + letter)
                    if flag is None:
                        raise UsageError(f"unknown shorthand flag: {letter!r} in {arg}")
                    if flag.takes_value:
                        value = letters.removeprefix("=")
                        if not letters:
                            if i == len(args):
                                raise UsageError(
                                    f"flag needs an argument: {letter!r} in -{letter}"
                                )
                            value, i = args[i], i + 1
                        self._store(values, flag, value)
                        break
                    if letters.startswith("="):
                        self._store(values, flag, _boolean(flag, letters[1:]))
                        break
                    self._store(values, flag, True)
            else:
                positional.append(arg)
                if not self.interspersed:
                    positional += args[i:]
                    break
        return values, positional

    def _store(self, values: dict[str, Any], flag: Flag, value: Any) -> None:
        if flag.convert is not None and isinstance(value, str):
            try:
                value = flag.convert(value)
            except ValueError as error:
                raise UsageError(
                    f'invalid argument "{value}" for "{", ".join(flag.names)}" flag: {error}'
                ) from None
        if flag.many:
            values[flag.dest].append(value)
        else:
            values[flag.dest] = value


def _boolean(flag: Flag, text: str) -> bool:
    """`--rm` is true; `--rm=false` is false, as Go's strconv.ParseBool reads it."""
    if text == "":
        return True
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise UsageError(
        f'invalid argument "{text}" for "{", ".join(flag.names)}" flag: '
        f'strconv.ParseBool: parsing "{text}": invalid syntax'
    )


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


# -- value converters shared by several verbs -----------------------------------

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text: str) -> int:
    """`512m` -> 536870912, as docker's units.RAMInBytes: binary multiples, any case,
    an optional trailing b (`1gb`), fractions allowed (`1.5g`)."""
    digits = len(text) - len(text.lstrip("0123456789."))
    number, suffix = text[:digits], text[digits:].lower()
    if suffix.endswith("b") and len(suffix) == 2:
        suffix = suffix[0]  # 1gb is 1g
    try:
        amount = float(number)
    except ValueError:
        raise ValueError(f"invalid size: '{text}'") from None
    if suffix not in _UNITS:
        raise ValueError(f"invalid suffix: '{text[digits:]}'")
    return int(amount * _UNITS[suffix])


def nano_cpus(text: str) -> int:
    """`--cpus 1.5` -> 1500000000 NanoCpus (billionths of one CPU's time)."""
    try:
        cpus = float(text)
    except ValueError:
        raise ValueError(f"failed to parse {text} as a rational number") from None
    return int(round(cpus * 1e9))


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None
