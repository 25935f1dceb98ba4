"""Turn a function, or one statement inside it, into a stub a learner fills in.

Everything is done on the source text with the line numbers `ast` gives, so the rest
of the file (comments, blank lines, the function's signature and docstring) stays
exactly as it was.
"""

from __future__ import annotations

import ast
import textwrap

from exercises.catalog import Exercise, Target


class StubError(Exception):
    pass


def find_function(tree: ast.Module, dotted: str) -> ast.FunctionDef:
    body: list[ast.stmt] = tree.body
    node: ast.stmt | None = None
    for part in dotted.split("."):
        node = next((n for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef)
                     and n.name == part), None)
        if node is None:
            raise StubError(f"no {dotted} here")
        body = node.body
    if not isinstance(node, ast.FunctionDef):
        raise StubError(f"{dotted} is not a function")
    return node


def span(text: str, target: Target) -> tuple[int, int, int]:
    """(first line, last line, indentation), 1-based and inclusive, of what to replace."""
    lines = text.splitlines()
    func = find_function(ast.parse(text), target.function)
    if target.statement:
        for node in ast.walk(func):
            if isinstance(node, ast.stmt) and node is not func and \
                    lines[node.lineno - 1].strip().startswith(target.statement):
                return node.lineno, node.end_lineno or node.lineno, node.col_offset
        raise StubError(f"no statement starting {target.statement!r} in {target.function}")
    body = func.body
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        body = body[1:]  # keep the docstring: it is part of the assignment
    if not body:
        raise StubError(f"{target.function} has nothing but a docstring")
    return body[0].lineno, func.end_lineno or body[-1].lineno, body[0].col_offset


def stub_block(exercise: Exercise, target: Target, indent: int) -> list[str]:
    what = (f"the step that is missing here, in {target.function}()"
            if target.statement else f"{target.function}()")
    lines = [f"# TODO(exercise {exercise.name}): write {what}.",
             *textwrap.wrap(exercise.task, 84, initial_indent="# ",
                            subsequent_indent="# "),
             f"# Stuck? `make exercise-hint NAME={exercise.name}` shows the hints;",
             f"# `make exercise-check NAME={exercise.name}` runs the checks."]
    if target.stub == "raise":
        lines.append(f'raise NotImplementedError("exercise {exercise.name}: {what} '
                     f'in {target.path} is yours to write")')
    else:
        lines.append("pass")
    return [" " * indent + line for line in lines]


def stub(text: str, exercise: Exercise, target: Target) -> str:
    first, last, indent = span(text, target)
    lines = text.splitlines()
    new = lines[:first - 1] + stub_block(exercise, target, indent) + lines[last:]
    result = "\n".join(new) + ("\n" if text.endswith("\n") else "")
    ast.parse(result)  # a stub that does not parse would be a broken exercise
    return result


def original(text: str, target: Target) -> str:
    """The project's own code for a target: the lines the stub replaces."""
    first, last, _ = span(text, target)
    return "\n".join(text.splitlines()[first - 1:last])
