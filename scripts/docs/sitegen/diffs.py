"""What changed between neighbouring stages, computed from the code at every build.

For each pair (stage N, stage N+1) the page lists, within the two stage packages:

    changed      the same path in both, different text
    unchanged    the same path, the same text
    moved        a file only in N+1 whose text is most like a file only in N
    counterpart  a file that plays the same role under another name (the executor)
    rewritten    the same path, the same role, done another way (stage 4's Tasks service)
    added        only in N+1, like nothing in N
    kept         only in N, but N+1 imports it, or what it imports does (stage 3's runc
                 imports stage 2's libcontainer; stage 4's shim imports stage 3's task.py),
                 or N+1 runs it as a program (stage 4 runs stage 3's runc)
    gone         only in N, and not used by N+1 any more

Every name of an import counts (`from libcontainer import namespaces, rootfs` reads
both modules), imports inside functions too. Counterpart and rewritten files are
compared definition by definition (create with create, start with start), the others
as whole files; each diff has a side-by-side and a unified view, each line highlighted
as Python by pygments, the differences found by difflib. Small diffs, and those only in
imports, docstrings or layout, are folded. The HTML goes in after markdown has run
(`expand`, from the on_page_content hook), where a placeholder comment stood. Each page
links to the upstream change (moby, containerd) its step mirrors.
"""

from __future__ import annotations

import ast
import difflib
import functools
import html
import itertools
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_for_filename
from pygments.util import ClassNotFound

from sitegen.common import REPO, Page, link, source_uri

STAGES = {
    "stage1": "stages/stage1_lxc",
    "stage2": "stages/stage2_libcontainer",
    "stage3": "stages/stage3_containerd",
    "stage4": "stages/stage4_shim",
}
TITLES = {"stage1": "Stage 1 (LXC)", "stage2": "Stage 2 (libcontainer)",
          "stage3": "Stage 3 (containerd)", "stage4": "Stage 4 (shims)"}
# Files that do the same job under a different name: the seam every era replaces.
EXECUTOR = "the executor: the one seam every era replaces"
# They are compared definition by definition (create with create, start with start...).
COUNTERPARTS = {
    ("stage1", "stage2"): [("lxc_executor.py", "native_executor.py", EXECUTOR)],
    ("stage2", "stage3"): [("native_executor.py", "containerd_executor.py", EXECUTOR)],
    ("stage3", "stage4"): [("containerd/tasks.py", "containerd/tasks.py",
                            "containerd's Tasks service: each call goes to a shim now")],
}
# Earlier code a later stage runs as a program rather than importing it.
PROGRAMS = {("stage3", "stage4"): {"stages/stage3_containerd/runc": "bin/whalebones-runc"}}
# What each step is about, in a sentence; the rest of the page is computed.
INTROS = {
    ("stage1", "stage2"): "LXC's tools leave; the daemon calls the kernel itself through "
                          "a library of its own, libcontainer.",
    ("stage2", "stage3"): "The daemon stops making containers: containerd (behind gRPC) "
                          "keeps them, and runc, a CLI over stage 2's libcontainer, "
                          "makes them and exits.",
    ("stage3", "stage4"): "containerd stops being the containers' parent: each task moves "
                          "into a shim of its own, which runs stage 3's task.py unchanged. "
                          "runc is still stage 3's: the shim runs it as a program "
                          "(bin/whalebones-runc), it does not import it.",
}
# The change in Docker's own history each step mirrors: checked against the pull
# requests themselves (titles quoted as they are) and ../shared/HISTORY.md.
UPSTREAM = {
    ("stage1", "stage2"): [
        ("moby/moby#4327", "https://github.com/moby/moby/pull/4327",
         "“Add native execution driver to docker and make it the default” (opened "
         "2014-02): libcontainer and the `native` driver, the default from Docker 0.9 on"),
        ("moby/moby#17700", "https://github.com/moby/moby/pull/17700",
         "“Remove LXC support.” (2015-11): the LXC driver, deprecated in Docker 1.8, "
         "is gone from Docker 1.10"),
    ],
    ("stage2", "stage3"): [
        ("moby/moby#20361", "https://github.com/moby/moby/issues/20361",
         "“Containerd Integration” (2016-02), the plan: Docker Engine 1.11 hands "
         "container supervision to containerd, which runs containers with runc"),
        ("moby/moby#20662", "https://github.com/moby/moby/pull/20662",
         "“Containerd integration” (merged 2016-03), the change: the daemon needs "
         "`containerd`, `containerd-shim` and `runc` beside it"),
    ],
    ("stage3", "stage4"): [
        ("containerd/containerd#437", "https://github.com/containerd/containerd/pull/437",
         "“Add container lifecycle document” (2017-01): each container has a shim, "
         "its processes' parent, so that containerd can crash and restore them"),
        ("containerd/containerd#2426", "https://github.com/containerd/containerd/issues/2426",
         "“[proposal] Shim API v2” (2018-06)"),
        ("containerd/containerd#2434", "https://github.com/containerd/containerd/pull/2434",
         "“Runtime v2 (shim API)” (merged 2018-07): the shim as the API a runtime "
         "implements"),
        ("containerd 1.2's release notes",
         "https://github.com/containerd/containerd/blob/"
         "1d01a2c43dc4148860c95fda86c1dd4017e947e6/releases/v1.2.0.toml",
         "“New V2 Runtime”: a stable interface for managing containers through "
         "external shims"),
    ],
}
# What Whalebones does differently from that history, where it matters to the step.
UPSTREAM_NOTE = {
    ("stage3", "stage4"): "In history the shim came with containerd itself: Docker "
                          "1.11 already ran a `containerd-shim` per container (see "
                          "moby/moby#20662). Whalebones shows it as a step of its own, "
                          "to show what it is for.",
}
MOVE_RATIO = 0.5  # how alike two files must be for one to count as the other, moved
MOVE_MIN_LINES = 15  # tiny files (`__main__.py`) look alike without being moved
CONTEXT = 3       # unchanged lines shown around each change
SKIP = ("_pb2.py", "_pb2_grpc.py")

_rendered: dict[str, str] = {}  # placeholder key -> HTML, filled by pages()


@dataclass
class FileChange:
    kind: str
    old: str | None  # repository-relative paths
    new: str | None
    note: str = ""


@dataclass
class Comparison:
    a: str
    b: str
    changes: list[FileChange] = field(default_factory=list)
    imports: list[tuple[str, str, list[str]]] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"diffs/{self.a}-{self.b}.md"


def package_files(stage: str) -> list[str]:
    root = REPO / STAGES[stage]
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.suffix in (".py", ".proto")
                  and "__pycache__" not in p.parts and not p.name.endswith(SKIP))


def read(path: str) -> str:
    return (REPO / path).read_text(errors="replace")


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, read(a).splitlines(), read(b).splitlines()).ratio()


def exists(path: str) -> bool:
    return (REPO / path).is_file()


def import_targets(module: str, names: list[str],
                   is_file: Callable[[str], bool] = exists) -> dict[str, list[str]]:
    """The files `from module import names` reads, each with the names it gives.

    Every name counts: `from pkg import a, b, c` reads pkg/a.py, pkg/b.py and pkg/c.py
    when those are modules, and pkg/__init__.py (or pkg.py) for the names that are not
    (a class, a function). Generated gRPC stubs stand for the .proto they come from.
    """
    base = module.replace(".", "/")
    found: dict[str, list[str]] = {}
    for name in names:
        stem = name.removesuffix("_grpc").removesuffix("_pb2")
        for candidate in (f"{base}/{name}/__init__.py", f"{base}/{stem}.proto",
                          f"{base}/{name}.py"):
            if (stem != name or not candidate.endswith(".proto")) and is_file(candidate):
                found.setdefault(candidate, []).append(name)
                if is_file(f"{base}/__init__.py"):  # importing a submodule runs its package
                    found.setdefault(f"{base}/__init__.py", [])
                break
        else:  # not a module: an attribute of the module itself
            own = next((c for c in (f"{base}.py", f"{base}/__init__.py") if is_file(c)),
                       None)
            if own:
                found.setdefault(own, []).append(name)
    return found


def imports_of(path: str, is_file: Callable[[str], bool] = exists,
               text: str | None = None) -> dict[str, list[str]]:
    """Every file of the stages that `path` imports, with the names it takes from each:
    `from X import a, b`, `import X.Y`, and relative imports, at any depth (imports
    inside functions count: runc's verbs import libcontainer where they use it)."""
    found: dict[str, list[str]] = {}
    package = path.rsplit("/", 1)[0].replace("/", ".")
    for node in ast.walk(ast.parse(read(path) if text is None else text)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # `from .x import y`: relative to this file's package
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join([*parts, *([module] if module else [])])
            if not module.startswith("stages."):
                continue
            targets = import_targets(module, [n.name for n in node.names], is_file)
        elif isinstance(node, ast.Import):
            targets = {}
            for alias in node.names:
                if alias.name.startswith("stages."):
                    module, _, last = alias.name.rpartition(".")
                    for target, names in import_targets(module, [last], is_file).items():
                        targets.setdefault(target, []).extend(names)
        else:
            continue
        for target, names in targets.items():
            known = found.setdefault(target, [])
            known.extend(n for n in names if n not in known)
    return found


def earlier_imports(stage: str) -> list[tuple[str, str, list[str]]]:
    """(file in `stage`, file of another stage, names) for every such import."""
    found = []
    for rel in package_files(stage):
        path = f"{STAGES[stage]}/{rel}"
        if rel.endswith(".py"):
            found += [(path, target, names) for target, names in imports_of(path).items()
                      if not target.startswith(STAGES[stage] + "/")]
    return found


@functools.cache
def uses(path: str) -> set[str]:
    """The repository files `path` imports from the stages."""
    return set(imports_of(path))


def reachable(start: set[str]) -> set[str]:
    """Every file `start` uses, and what those use, and so on."""
    seen, todo = set(start), list(start)
    while todo:
        path = todo.pop()
        if path.endswith(".py"):
            for used in uses(path) - seen:
                seen.add(used)
                todo.append(used)
    return seen


def few(names: list[str], most: int = 4) -> str:
    """Names for a table cell: the first few, and how many more."""
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def compare(a: str, b: str) -> Comparison:
    cmp = Comparison(a, b)
    old, new = package_files(a), package_files(b)
    pa, pb = STAGES[a], STAGES[b]
    cmp.imports = earlier_imports(b)
    imported = {target for _, target, _ in cmp.imports}
    used = reachable(imported)
    counterparts = COUNTERPARTS.get((a, b), [])
    paired_old = {o for o, _, _ in counterparts}
    paired_new = {n for _, n, _ in counterparts}
    for o, n, note in counterparts:
        cmp.changes.append(FileChange("counterpart" if o != n else "rewritten",
                                      f"{pa}/{o}", f"{pb}/{n}", note))
    for rel in sorted(set(old) & set(new) - paired_old - paired_new):
        same = read(f"{pa}/{rel}") == read(f"{pb}/{rel}")
        cmp.changes.append(FileChange("unchanged" if same else "changed",
                                      f"{pa}/{rel}", f"{pb}/{rel}"))
    only_old = [r for r in old if r not in new and r not in paired_old]
    only_new = [r for r in new if r not in old and r not in paired_new]
    for rel in only_new:
        movable = [o for o in only_old
                   if len(read(f"{pa}/{o}").splitlines()) >= MOVE_MIN_LINES]
        best = max(movable, key=lambda o: ratio(f"{pa}/{o}", f"{pb}/{rel}"), default=None)
        if best and ratio(f"{pa}/{best}", f"{pb}/{rel}") >= MOVE_RATIO and \
                len(read(f"{pb}/{rel}").splitlines()) >= MOVE_MIN_LINES:
            only_old.remove(best)
            cmp.changes.append(FileChange("moved", f"{pa}/{best}", f"{pb}/{rel}"))
        else:
            cmp.changes.append(FileChange("added", None, f"{pb}/{rel}"))
    programs = PROGRAMS.get((a, b), {})
    for rel in only_old:
        path = f"{pa}/{rel}"
        users = sorted({f for f, target, _ in cmp.imports if target == path})
        program = next((p for d, p in programs.items() if path.startswith(d + "/")), None)
        # the earlier stage's own files that import it, on the way from those imports
        inner = few([f"`{Path(f).relative_to(pa).as_posix()}`" for f in sorted(used)
                     if f != path and f.startswith(pa + "/") and f.endswith(".py")
                     and path in uses(f)])
        if path in imported:
            names = ", ".join(f"`{Path(u).relative_to(STAGES[b]).as_posix()}`" for u in users)
            also = f"; also by stage {a[-1]}'s own {inner}" if inner else ""
            cmp.changes.append(FileChange("kept", path, None, f"imported by {names}{also}"))
        elif path in used:
            cmp.changes.append(FileChange("kept", path, None,
                                          f"used through those imports, by stage {a[-1]}'s "
                                          f"{inner}"))
        elif program:
            cmp.changes.append(FileChange("kept", path, None,
                                          f"not imported: run as a program, `{program}`"))
        else:
            cmp.changes.append(FileChange("gone", path, None))
    return cmp


# --- definition by definition -----------------------------------------------------
# Two executors do the same job in different files: a whole-file diff of them is noise.
# Paired by name (create with create...), each pair's diff says what the era changed.


@dataclass
class Definition:
    name: str   # "create", or "LxcExecutor.create" for a method
    first: int  # index of its first line (its decorators included)
    end: int    # index past its last line


def definitions(text: str) -> dict[str, Definition]:
    """The module's functions and its classes' methods, in the file's order (nested
    functions belong to the one they are in)."""
    found: dict[str, Definition] = {}

    def add(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> None:
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        found[name] = Definition(name, first, node.end_lineno or node.lineno)

    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            add(node, node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    add(item, f"{node.name}.{item.name}")
    return found


def pair_classes(old: dict[str, set[str]], new: dict[str, set[str]]) -> dict[str, str]:
    """Old class -> new class, given each one's method names: the same name, or else
    the class sharing the most method names with it (two at least): LxcExecutor and
    NativeExecutor both have create, start, kill..."""
    pairs = {c: c for c in old if c in new}
    for c in old:
        free = [n for n in new if n not in pairs.values()]
        best = max(free, key=lambda n: len(old[c] & new[n]), default=None)
        if c not in pairs and best and len(old[c] & new[best]) >= 2:
            pairs[c] = best
    return pairs


@dataclass
class Pairing:
    pairs: list[tuple[str, str]]  # (old name, new name), in the new file's order
    only_old: list[str]
    only_new: list[str]


def pair_definitions(old_text: str, new_text: str) -> Pairing:
    old, new = definitions(old_text), definitions(new_text)

    def by_class(defs: dict[str, Definition]) -> dict[str, set[str]]:
        classes: dict[str, set[str]] = {}
        for name in defs:
            cls, dot, method = name.rpartition(".")
            if dot:
                classes.setdefault(cls, set()).add(method)
        return classes

    classes = pair_classes(by_class(old), by_class(new))

    def counterpart(name: str) -> str | None:
        cls, dot, method = name.rpartition(".")
        if not dot:
            return name
        return f"{classes[cls]}.{method}" if cls in classes else None

    wanted = {c: o for o in old if (c := counterpart(o)) is not None}
    pairs = [(wanted[n], n) for n in new if n in wanted]
    paired = {o for o, _ in pairs}
    return Pairing(pairs, [o for o in old if o not in paired],
                   [n for n in new if n not in wanted])


def outside(text: str, defs: dict[str, Definition]) -> list[int]:
    """The indices of the lines in no definition: docstring, imports, constants, class
    headers."""
    inside = {i for d in defs.values() for i in range(d.first, d.end)}
    return [i for i in range(len(text.splitlines())) if i not in inside]


def elided(text: str, defs: dict[str, Definition]) -> str:
    """The text with each definition replaced by `...`: what is outside them, still
    Python (a class keeps a body)."""
    lines = text.splitlines()
    for d in sorted(defs.values(), key=lambda d: d.first, reverse=True):
        indent = lines[d.first][:len(lines[d.first]) - len(lines[d.first].lstrip())]
        lines[d.first:d.end] = [f"{indent}..."]
    return "\n".join(lines)


TRIVIAL_LINES = 4  # a diff of this many changed lines or fewer is shown folded


def _meaning(text: str) -> str:
    """The code without what does not change what it does here: imports (a diff page
    cares about behaviour), docstrings, comments, layout, and `...` (what stands for a
    definition left out)."""
    tree = ast.parse(textwrap.dedent(text))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        kept = [n for n in body if not isinstance(n, ast.Import | ast.ImportFrom)
                and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
                         and (n.value.value is Ellipsis or isinstance(n.value.value, str)))]
        node.body = kept  # type: ignore[attr-defined]
    return ast.dump(tree)


def trivial(old_text: str, new_text: str) -> str | None:
    """Why a diff is not worth showing open (None if it is)."""
    plus, minus = count_changes(old_text.splitlines(), new_text.splitlines())
    if plus + minus <= TRIVIAL_LINES:
        return f"a small change, +{plus} −{minus}"
    try:
        if _meaning(old_text) == _meaning(new_text):
            return f"only imports, docstrings, comments or layout, +{plus} −{minus}"
    except SyntaxError:
        pass  # not Python, or lines out of their context: judged by size alone
    return None


def count_changes(a: list[str], b: list[str]) -> tuple[int, int]:
    """(lines added, lines removed) from a to b."""
    added = removed = 0
    for line in difflib.unified_diff(a, b, lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


# --- rendering ----------------------------------------------------------------------


@functools.cache
def highlighted_lines(path: str) -> list[str]:
    text = read(path)
    try:
        lexer = get_lexer_for_filename(path, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return [html.escape(line) for line in text.splitlines()]
    out = highlight(text, lexer, HtmlFormatter(nowrap=True))
    lines = out.split("\n")
    return lines[:len(text.splitlines())]


def _cell(num: int | None, code: str, cls: str) -> str:
    number = "" if num is None else str(num)
    return f'<td class="wb-ln">{number}</td><td class="wb-code {cls}">{code or " "}</td>'


def _start(lines: list[int], i: int) -> int:
    """The file's line number where a hunk starting at index i of `lines` begins."""
    return lines[i] + 1 if i < len(lines) else (lines[-1] + 2 if lines else 1)


def render(old: str, new: str, a_lines: list[int] | None = None,
           b_lines: list[int] | None = None) -> tuple[str, str]:
    """(side-by-side HTML, unified HTML) for two files, or for some of their lines
    (indices: one definition, or what is outside them), numbered as in the files."""
    a_all, b_all = read(old).splitlines(), read(new).splitlines()
    a_idx = list(range(len(a_all))) if a_lines is None else a_lines
    b_idx = list(range(len(b_all))) if b_lines is None else b_lines
    a_text, b_text = [a_all[i] for i in a_idx], [b_all[j] for j in b_idx]
    a_hl = [highlighted_lines(old)[i] for i in a_idx]
    b_hl = [highlighted_lines(new)[j] for j in b_idx]
    matcher = difflib.SequenceMatcher(None, a_text, b_text, autojunk=False)
    sbs, uni = [], []
    for group in matcher.get_grouped_opcodes(CONTEXT):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        head = f"@@ -{_start(a_idx, i1)},{i2 - i1} +{_start(b_idx, j1)},{j2 - j1} @@"
        sbs.append(f'<tr class="wb-hunk"><td colspan="4">{head}</td></tr>')
        uni.append(f'<tr class="wb-hunk"><td colspan="4">{head}</td></tr>')
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                for i, j in zip(range(a1, a2), range(b1, b2), strict=True):
                    na, nb = a_idx[i] + 1, b_idx[j] + 1
                    sbs.append(f"<tr>{_cell(na, a_hl[i], '')}{_cell(nb, b_hl[j], '')}</tr>")
                    uni.append(f'<tr><td class="wb-ln">{na}</td><td class="wb-ln">{nb}'
                               f'</td><td class="wb-sign"> </td>'
                               f'<td class="wb-code">{a_hl[i] or " "}</td></tr>')
                continue
            for i, j in itertools.zip_longest(range(a1, a2), range(b1, b2)):
                left = _cell(a_idx[i] + 1, a_hl[i], "wb-del") if i is not None else \
                    _cell(None, "", "wb-empty")
                right = _cell(b_idx[j] + 1, b_hl[j], "wb-add") if j is not None else \
                    _cell(None, "", "wb-empty")
                sbs.append(f"<tr>{left}{right}</tr>")
            for i in range(a1, a2):
                uni.append(f'<tr class="wb-del"><td class="wb-ln">{a_idx[i] + 1}</td>'
                           f'<td class="wb-ln"></td><td class="wb-sign">-</td>'
                           f'<td class="wb-code wb-del">{a_hl[i] or " "}</td></tr>')
            for j in range(b1, b2):
                uni.append(f'<tr class="wb-add"><td class="wb-ln"></td>'
                           f'<td class="wb-ln">{b_idx[j] + 1}</td><td class="wb-sign">+</td>'
                           f'<td class="wb-code wb-add">{b_hl[j] or " "}</td></tr>')
    head = (f'<thead><tr><th colspan="2">{html.escape(old)}</th>'
            f'<th colspan="2">{html.escape(new)}</th></tr></thead>')
    cols = '<colgroup><col class="wb-lnc"><col><col class="wb-lnc"><col></colgroup>'
    side = ('<div class="wb-diff highlight"><table class="wb-sbs">'
            f'{cols}{head}<tbody>{"".join(sbs)}</tbody></table></div>')
    unified = ('<div class="wb-diff highlight"><table class="wb-uni"><thead><tr>'
               f'<th colspan="4">--- {html.escape(old)}<br>+++ {html.escape(new)}</th>'
               f'</tr></thead><tbody>{"".join(uni)}</tbody></table></div>')
    return side, unified


def views(key: str, side: str, unified: str, folded: str | None) -> str:
    """Both views of one diff behind two labels, with CSS and no script: three radio
    buttons, the first (hidden, checked at first) meaning "as suits the screen": side
    by side when it is wide, unified when it is narrow (whalebones.css). A diff not
    worth reading open (`folded` says why) sits in a closed <details>."""
    ident = "wb-v-" + re.sub(r"[^A-Za-z0-9]+", "-", key)
    out = (f'<div class="wb-views">'
           f'<input type="radio" name="{ident}" id="{ident}-auto" class="wb-auto" checked>'
           f'<input type="radio" name="{ident}" id="{ident}-sbs" class="wb-pick-sbs">'
           f'<input type="radio" name="{ident}" id="{ident}-uni" class="wb-pick-uni">'
           f'<div class="wb-view-labels">'
           f'<label for="{ident}-sbs" class="wb-label-sbs">Side by side</label>'
           f'<label for="{ident}-uni" class="wb-label-uni">Unified</label></div>'
           f'<div class="wb-view-sbs">{side}</div>'
           f'<div class="wb-view-uni">{unified}</div></div>')
    if folded:
        out = (f'<details class="wb-folded"><summary>{html.escape(folded)}: '
               f'open to see it</summary>{out}</details>')
    return out


def stats(old: str, new: str) -> tuple[int, int]:
    return count_changes(read(old).splitlines(), read(new).splitlines())


def summary(path: str) -> str:
    if not path.endswith(".py"):
        return ""
    doc = ast.get_docstring(ast.parse(read(path)))
    return (doc or "").strip().split("\n", 1)[0].replace("|", "\\|")


SHORT = {"counterpart": "renamed for the same job", "rewritten": "rewritten for the same job",
         "moved": "moved", "changed": "changed",
         "added": "new", "kept": "reused from the earlier stage",
         "gone": "left in the earlier stage", "unchanged": "unchanged"}
KIND_ORDER = ["counterpart", "rewritten", "moved", "changed", "added", "kept", "gone", "unchanged"]
KIND_TEXT = {
    "counterpart": "same job, new name",
    "rewritten": "same job, same name, rewritten",
    "moved": "moved (most of its text is the same)",
    "changed": "changed",
    "added": "new in this stage",
    "kept": "only in the earlier stage's package, imported from there",
    "gone": "only in the earlier stage's package (not imported)",
    "unchanged": "unchanged",
}


def diff_page(cmp: Comparison) -> Page:
    uri = cmp.uri

    def src(path: str) -> str:
        return f"[`{path}`]({link(uri, source_uri(path))})"

    def short(path: str, stage: str) -> str:
        """A file of a stage's package, named within it."""
        name = Path(path).relative_to(STAGES[stage]).as_posix()
        return f"[`{name}`]({link(uri, source_uri(path))})"

    changes = sorted(cmp.changes, key=lambda c: (KIND_ORDER.index(c.kind), c.new or c.old))
    counts = {k: sum(c.kind == k for c in changes) for k in KIND_ORDER}
    out = ["---\nhide:\n  - navigation\n---\n",  # the room goes to the side-by-side view
           f"# From {TITLES[cmp.a]} to {TITLES[cmp.b]}\n",
           f"{INTROS[(cmp.a, cmp.b)]}\n",
           "In Docker's history:\n",
           *(f"- [{name}]({url}): {what}" for name, url, what in UPSTREAM[(cmp.a, cmp.b)]),
           "",
           *([UPSTREAM_NOTE[(cmp.a, cmp.b)] + "\n"] if (cmp.a, cmp.b) in UPSTREAM_NOTE
             else []),
           f"Computed from the code when this site was built: `{STAGES[cmp.a]}/` "
           f"against `{STAGES[cmp.b]}/`. " +
           ", ".join(f"{n} {SHORT[k]}" for k, n in counts.items() if n) +
           ".\n",
           "## The files\n",
           f"| {TITLES[cmp.a]} | {TITLES[cmp.b]} | what happened | lines +/- |",
           "|---|---|---|---|"]
    for c in changes:
        delta = ""
        if c.old and c.new and c.kind != "unchanged":
            plus, minus = stats(c.old, c.new)
            delta = f"+{plus} −{minus}"
        what = KIND_TEXT[c.kind] + (f": {c.note}" if c.note else "")
        if c.kind == "added":
            what += f". {summary(c.new or '')}"
        out.append(f"| {short(c.old, cmp.a) if c.old else ''} "
                   f"| {short(c.new, cmp.b) if c.new else ''} "
                   f"| {what} | {delta} |")
    if cmp.imports:
        out += ["\n## What it reuses from earlier stages\n",
                f"{TITLES[cmp.b]} does not copy earlier code: it imports it. Every module "
                "of another stage that it imports, and where:\n",
                "| module | names | imported by |", "|---|---|---|"]
        grouped: dict[str, tuple[list[str], list[str]]] = {}
        for path, target, names in cmp.imports:
            if not names:
                continue  # a package run only because a module of it was imported
            used, by = grouped.setdefault(target, ([], []))
            used.extend(n for n in names if n not in used)
            by.append(short(path, cmp.b))
        for target, (used, by) in grouped.items():
            where = src(target) if target.endswith((".py", ".proto")) else f"`{target}`"
            out.append(f"| {where} | {', '.join(f'`{n}`' for n in used)} "
                       f"| {', '.join(dict.fromkeys(by))} |")
    shown = [c for c in changes if c.kind in ("counterpart", "rewritten", "moved", "changed")]
    if shown:
        out.append("\n## The differences\n")
        out.append("Small changes, and those only in imports, docstrings, comments or "
                   "layout, are folded: open them to see them. Side by side on a wide "
                   "screen, unified on a narrow one; the labels switch.\n")
    for n, c in enumerate(shown):
        assert c.old and c.new
        old_name = Path(c.old).relative_to(STAGES[cmp.a]).as_posix()
        new_name = Path(c.new).relative_to(STAGES[cmp.b]).as_posix()
        title = (f"`{new_name}`" if old_name == new_name
                 else f"`{old_name}` → `{new_name}`")
        plus, minus = stats(c.old, c.new)
        out += [f"### {title}\n",
                f"{KIND_TEXT[c.kind].capitalize()}: {src(c.old)} → {src(c.new)}, "
                f"+{plus} −{minus} lines."]
        if c.kind in ("counterpart", "rewritten") and c.old.endswith(".py"):
            out += definition_diffs(cmp, f"{cmp.a}-{cmp.b}/{n}", c.old, c.new)
        else:
            out += ["", placeholder(f"{cmp.a}-{cmp.b}/{n}", c.old, c.new)]
    return Page(uri, "\n".join(out) + "\n")


def placeholder(key: str, old: str, new: str, a_lines: list[int] | None = None,
                b_lines: list[int] | None = None, texts: tuple[str, str] | None = None) -> str:
    """A comment markdown leaves alone, replaced by the diff's HTML (`expand`).
    `texts`: what to judge the diff's weight by, if not the lines shown."""
    a_all, b_all = read(old).splitlines(), read(new).splitlines()
    a_text = "\n".join(a_all if a_lines is None else [a_all[i] for i in a_lines])
    b_text = "\n".join(b_all if b_lines is None else [b_all[j] for j in b_lines])
    if a_text == b_text:
        return "The same in both.\n"
    a_text, b_text = texts or (a_text, b_text)
    _rendered[key] = views(key, *render(old, new, a_lines, b_lines),
                           folded=trivial(a_text, b_text))
    return f"<!-- wb-diff:{key} -->\n"


def definition_diffs(cmp: Comparison, key: str, old: str, new: str) -> list[str]:
    """Markdown for two counterpart files compared definition by definition."""
    a_text, b_text = read(old), read(new)
    a_defs, b_defs = definitions(a_text), definitions(b_text)
    pairing = pair_definitions(a_text, b_text)
    a_lines, b_lines = a_text.splitlines(), b_text.splitlines()

    def lines(d: Definition) -> list[int]:
        return list(range(d.first, d.end))

    def code(names: list[str]) -> str:
        return ", ".join(f"`{n}`" for n in names) or "none"

    same = [new_name for o, new_name in pairing.pairs
            if [a_lines[i] for i in lines(a_defs[o])] ==
            [b_lines[j] for j in lines(b_defs[new_name])]]
    out = [f" Compared definition by definition, paired by name: {len(pairing.pairs)} "
           f"in both ({len(same)} the same), {len(pairing.only_old)} only in "
           f"{TITLES[cmp.a]}, {len(pairing.only_new)} only in {TITLES[cmp.b]}.\n",
           f"- Only in {TITLES[cmp.a]}: {code(pairing.only_old)}",
           f"- Only in {TITLES[cmp.b]}: {code(pairing.only_new)}",
           f"- The same text in both: {code(same)}\n"]
    renamed = dict.fromkeys(f"`{o.split('.')[0]}` pair with `{n.split('.')[0]}`'s"
                            for o, n in pairing.pairs if "." in o and o != n)
    if renamed:
        out.append(f"The methods of {', '.join(renamed)}, named below as in "
                   f"{TITLES[cmp.b]}.\n")
    for m, (o, n) in enumerate(pairing.pairs):
        if n in same:
            continue
        same_name = o.rsplit(".", 1)[-1] == n.rsplit(".", 1)[-1]
        title = f"`{n}`" if same_name else f"`{o}` → `{n}`"
        out += [f"#### {title}\n",
                placeholder(f"{key}/{m}", old, new, lines(a_defs[o]), lines(b_defs[n]))]
    out += ["#### Outside the definitions\n",
            "The docstring, imports, constants and class headers.\n",
            placeholder(f"{key}/rest", old, new, outside(a_text, a_defs),
                        outside(b_text, b_defs),
                        (elided(a_text, a_defs), elided(b_text, b_defs)))]
    return out


PAIRS = [("stage1", "stage2"), ("stage2", "stage3"), ("stage3", "stage4")]


def index_page(comparisons: list[Comparison]) -> Page:
    uri = "diffs/index.md"
    out = ["# What changed between stages\n",
           "Each stage's package holds only what its era changed; everything shared is "
           "in `shared/`. So the difference between two neighbouring packages *is* the "
           "history. These pages are computed from the code each time the site is "
           "built (`scripts/docs/sitegen/diffs.py`, with difflib and pygments), never "
           "pasted.\n",
           "| step | in one sentence | changed | moved | new | reused by import |",
           "|---|---|---|---|---|---|"]
    for cmp in comparisons:
        count = {k: sum(c.kind == k for c in cmp.changes) for k in KIND_ORDER}
        out.append(f"| [{TITLES[cmp.a]} → {TITLES[cmp.b]}]({link(uri, cmp.uri)}) "
                   f"| {INTROS[(cmp.a, cmp.b)]} "
                   f"| {count['changed'] + count['counterpart'] + count['rewritten']} "
                   f"| {count['moved']} "
                   f"| {count['added']} "
                   f"| {sum(1 for *_, names in cmp.imports if names)} imports |")
    return Page(uri, "\n".join(out) + "\n")


def pages() -> list[Page]:
    _rendered.clear()
    highlighted_lines.cache_clear()  # `mkdocs serve` builds again after an edit
    uses.cache_clear()
    comparisons = [compare(a, b) for a, b in PAIRS]
    return [index_page(comparisons), *(diff_page(c) for c in comparisons)]


def expand(page_html: str) -> str:
    """Put each diff's HTML where its placeholder comment is."""
    if "<!-- wb-diff:" not in page_html:
        return page_html
    return re.sub(r"<!-- wb-diff:(\S+) -->",
                  lambda m: _rendered.get(m.group(1), m.group(0)), page_html)
