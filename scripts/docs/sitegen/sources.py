"""The "source" view: one page per file of the engine, highlighted, lines numbered.

Every other page links here (`source/stages/.../rootfs.py.md#__codelineno-0-42` for a
line), so the built site can be read offline, from a USB stick in a workshop room,
without GitHub. Generated files (the gRPC stubs) and caches are left out.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from sitegen.common import REPO, Page, fence, link, source_uri

# What the site shows: the engine, its tests and the few files that start it.
ROOTS = ("shared", "stages", "tests", "bin")
SINGLE_FILES = ("run", "Makefile", "pyproject.toml", "scripts/stage",
                "scripts/docs/process_tree.py", "scripts/docs/request_trace.py")
SKIP_SUFFIXES = ("_pb2.py", "_pb2_grpc.py", ".pyc")
LANGUAGES = {".py": "python", ".proto": "protobuf", ".sh": "bash", ".md": "markdown",
             ".toml": "toml", ".yml": "yaml", ".yaml": "yaml", ".json": "json"}


@functools.cache
def files() -> tuple[str, ...]:
    """Repository-relative paths of every file that gets a source page."""
    found: list[str] = [p for p in SINGLE_FILES if (REPO / p).is_file()]
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*")):
            rel = path.relative_to(REPO).as_posix()
            if (not path.is_file() or "__pycache__" in path.parts
                    or rel.endswith(SKIP_SUFFIXES) or path.name.startswith(".")):
                continue
            found.append(rel)
    return tuple(sorted(found))


def language(path: str, text: str) -> str:
    name = Path(path).name
    if name == "Makefile":
        return "make"
    suffix = Path(path).suffix
    if suffix in LANGUAGES:
        return LANGUAGES[suffix]
    first = text.split("\n", 1)[0]
    if first.startswith("#!"):
        return "python" if "python" in first else "bash"
    return "text"


def summary(path: str, text: str) -> str:
    """A Python module's docstring, first line; '' for anything else."""
    if not path.endswith(".py"):
        return ""
    try:
        doc = ast.get_docstring(ast.parse(text))
    except SyntaxError:
        return ""
    return doc.strip().split("\n", 1)[0] if doc else ""


def page(path: str) -> Page:
    uri = source_uri(path)
    text = (REPO / path).read_text(errors="replace")
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    index = link(uri, "source/index.md")
    mark = fence(text)
    body = (
        "---\nsearch:\n  exclude: true\n---\n\n"  # pages of code would drown the search
        f"# {path}\n\n"
        f"`{path}` in the repository, {lines} lines. "
        f"[All source files]({index}) · "
        "lines are numbered: link to one with `#__codelineno-0-N`.\n\n"
        f'{mark}{language(path, text)} linenums="1"\n{text}'
        f'{"" if text.endswith(chr(10)) else chr(10)}{mark}\n'
    )
    return Page(uri, body)


def index_page(paths: tuple[str, ...]) -> Page:
    uri = "source/index.md"
    by_dir: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        by_dir[str(Path(path).parent)].append(path)
    out = ["# Source files\n",
           "Every file of the engine, its tests and its start-up scripts, as this site "
           "was built from it. The first line of each Python module's docstring says "
           "what the module is for.\n"]
    for directory in sorted(by_dir):
        out.append(f"\n## {'(top level)' if directory == '.' else directory}\n")
        out.append("| file | what it is |\n|---|---|")
        for path in by_dir[directory]:
            text = (REPO / path).read_text(errors="replace")
            what = summary(path, text).replace("|", "\\|")
            out.append(f"| [{Path(path).name}]({link(uri, source_uri(path))}) | {what} |")
    return Page(uri, "\n".join(out) + "\n")


def pages() -> list[Page]:
    paths = files()
    return [index_page(paths), *(page(p) for p in paths)]


# --- links into the code from any page: [text](source:PATH#Symbol) -------------------

SOURCE_LINK = re.compile(r"\]\(source:(?P<path>[^)#\s]+)(?:#(?P<symbol>[\w.]+))?\)")


def symbol_line(path: str, dotted: str) -> int | None:
    """The line where `Class.method` (or a function, a class, a CONSTANT) is defined."""
    tree = ast.parse((REPO / path).read_text())
    body: list[ast.stmt] = tree.body
    found: ast.stmt | None = None
    for part in dotted.split("."):
        found = None
        for node in body:
            names: list[str] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            if part in names:
                found = node
                break
        if found is None:
            return None
        body = getattr(found, "body", [])
    if found is None:
        return None
    decorators = getattr(found, "decorator_list", [])
    return min([found.lineno, *(d.lineno for d in decorators)])


def rewrite_links(markdown: str, page_uri: str, warn: Callable[[str], None]) -> str:
    """`](source:stages/x.py#name)` -> a relative link to x.py's page, at name's line.

    A path that is not in the source view, or a name that is not defined in the file,
    is a warning, which `mkdocs build --strict` turns into a failed build: links into
    the code cannot rot silently when the code moves.
    """
    shown = set(files())

    def replace(m: re.Match[str]) -> str:
        path, symbol = m.group("path"), m.group("symbol")
        if path not in shown:
            warn(f"{page_uri}: source:{path}: no such file in the source view")
            return m.group(0)
        target = link(page_uri, source_uri(path))
        if symbol:
            line = symbol_line(path, symbol) if path.endswith(".py") else None
            if line is None:
                warn(f"{page_uri}: source:{path}#{symbol}: no such name in {path}")
                return f"]({target})"
            target += f"#__codelineno-0-{line}"
        return f"]({target})"

    out, fenced = [], ""
    for line in markdown.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            mark = stripped[:3]
            fenced = "" if fenced == mark else (fenced or mark)
        if fenced or "source:" not in line:
            out.append(line)
            continue
        # outside code: a match preceded by an odd number of backticks is in a code span
        out.append(SOURCE_LINK.sub(
            lambda m, line=line: m.group(0) if line[:m.start()].count("`") % 2 else replace(m),
            line))
    return "\n".join(out)
