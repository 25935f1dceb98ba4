"""`@dataclass` and `field(default_factory=...)` for configs.py, without `dataclasses`.

configs.py is written with the standard library's decorator, and type checkers read
it as exactly that (it imports `dataclasses` for them). At run time it takes these
instead, because every `runc create` and `runc run` loads configs.py in a new
process, and the real ones are that process's largest cost after the interpreter
itself: importing `dataclasses` (which imports inspect, ast, dis, tokenize...) and
letting it write and compile the methods of configs' 20 classes took 15-17 ms of a
~60 ms `whalebones-runc run` (python3 -I -S, `import json` alone vs `import json,
dataclasses` and configs: 13.3 -> 21.9 -> 30.8 ms, medians of 20); these take ~1 ms.

Only what configs.py uses is here: an __init__ taking the fields in order (by
position or by name), defaults and default factories, and == and repr() by fields,
like the generated ones. No ordering, hashing, frozen, slots or inheritance.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class _Factory:
    """A field's default_factory, kept in the class until __init__ calls it."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], Any]) -> Any:
    return _Factory(default_factory)


def dataclass(cls: type) -> type:
    """Give `cls` an __init__, __eq__ and __repr__ over its annotated fields."""
    names = tuple(cls.__dict__.get("__annotations__", {}))
    defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
    for name, default in defaults.items():
        if isinstance(default, _Factory):
            delattr(cls, name)  # as dataclasses do: no shared list on the class

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__}() takes at most {len(names)} arguments")
        values = dict(zip(names, args, strict=False))  # fewer args: the rest by name
        for name, value in kwargs.items():
            if name not in names or name in values:
                raise TypeError(f"{cls.__name__}() got an unexpected or repeated argument {name!r}")
            values[name] = value
        for name in names:
            if name in values:
                value = values[name]
            elif name in defaults:
                default = defaults[name]
                value = default.make() if isinstance(default, _Factory) else default
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
            setattr(self, name, value)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in names)

    def __repr__(self: Any) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{cls.__qualname__}({fields})"

    cls.__init__ = __init__  # type: ignore[misc]
    cls.__eq__ = __eq__  # type: ignore[method-assign,assignment]
    cls.__repr__ = __repr__  # type: ignore[method-assign,assignment]
    cls.__hash__ = None  # type: ignore[assignment]  # mutable and compared by value, as dataclasses
    return cls
