"""What changed between neighbouring stages, computed from the code at every build.

For each pair (stage N, stage N+1) the page lists, within the two stage packages:

    changed      the same path in both, different text
    unchanged    the same path, the same text
    moved        a file only in N+1 whose text is most like a file only in N
    counterpart  a file that plays the same role under another name (the executor)
    added        only in N+1, like nothing in N
    kept         only in N, but N+1 imports it (stage 3's runc imports stage 2's
                 libcontainer; stage 4's shim imports stage 3's task.py)
    gone         only in N, and not used by N+1 any more

Changed, moved and counterpart files get a side-by-side and a unified view, each line
highlighted as Python by pygments, the differences found by difflib. The HTML goes in
after markdown has run (`expand`, from the on_page_content hook), where a placeholder
comment stood.
"""

from __future__ import annotations

import ast
import difflib
import html
import itertools
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
COUNTERPARTS = {
    ("stage1", "stage2"): [("lxc_executor.py", "native_executor.py")],
    ("stage2", "stage3"): [("native_executor.py", "containerd_executor.py")],
}
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


def earlier_imports(stage: str) -> list[tuple[str, str, list[str]]]:
    """(file in `stage`, module of another stage, names) for every such import."""
    found = []
    for rel in package_files(stage):
        path = f"{STAGES[stage]}/{rel}"
        if not rel.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(read(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                    "stages.") and not node.module.startswith(
                    STAGES[stage].replace("/", ".")):
                found.append((path, node.module, [n.name for n in node.names]))
    return found


def module_path(module: str, names: list[str] | None = None) -> str | None:
    """The file a module lives in (a package's __init__.py), or a submodule imported
    by name (`from pkg import task`)."""
    base = module.replace(".", "/")
    for name in names or []:
        if (REPO / base / name / "__init__.py").is_file():
            return f"{base}/{name}/__init__.py"  # a subpackage imported by name
        stem = name.removesuffix("_grpc").removesuffix("_pb2")
        if stem != name and (REPO / base / f"{stem}.proto").is_file():
            return f"{base}/{stem}.proto"  # generated stubs: show what they come from
        if (REPO / base / f"{name}.py").is_file():
            return f"{base}/{name}.py"
    for candidate in (f"{base}.py", f"{base}/__init__.py"):
        if (REPO / candidate).is_file():
            return candidate
    return None


def uses(path: str) -> set[str]:
    """The repository files `path` imports from the stages (directly, any depth of
    indentation: imports inside functions count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(read(path))):
        if isinstance(node, ast.ImportFrom) and node.module and \
                node.module.startswith("stages."):
            names = [n.name for n in node.names]
            for target in (module_path(node.module, names), module_path(node.module)):
                if target:
                    found.add(target)
    return found


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


def compare(a: str, b: str) -> Comparison:
    cmp = Comparison(a, b)
    old, new = package_files(a), package_files(b)
    pa, pb = STAGES[a], STAGES[b]
    cmp.imports = earlier_imports(b)
    imported = {p for _, m, n in cmp.imports for p in (module_path(m, n), module_path(m)) if p}
    used = reachable(imported)
    counterparts = COUNTERPARTS.get((a, b), [])
    paired_old = {o for o, _ in counterparts}
    paired_new = {n for _, n in counterparts}
    for rel in sorted(set(old) & set(new)):
        same = read(f"{pa}/{rel}") == read(f"{pb}/{rel}")
        cmp.changes.append(FileChange("unchanged" if same else "changed",
                                      f"{pa}/{rel}", f"{pb}/{rel}"))
    only_old = [r for r in old if r not in new and r not in paired_old]
    only_new = [r for r in new if r not in old and r not in paired_new]
    for o, n in counterparts:
        cmp.changes.append(FileChange("counterpart", f"{pa}/{o}", f"{pb}/{n}",
                                      "the executor: the one seam every era replaces"))
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
    for rel in only_old:
        path = f"{pa}/{rel}"
        users = sorted({f for f, m, n in cmp.imports if path in (module_path(m, n),
                                                                  module_path(m))})
        if path in imported:
            names = ", ".join(f"`{Path(u).relative_to(STAGES[b]).as_posix()}`" for u in users)
            cmp.changes.append(FileChange("kept", path, None, f"imported by {names}"))
        elif path in used:
            cmp.changes.append(FileChange("kept", path, None, "used through those imports"))
        else:
            cmp.changes.append(FileChange("gone", path, None))
    return cmp


# --- rendering ----------------------------------------------------------------------


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


def render(old: str, new: str) -> tuple[str, str]:
    """(side-by-side HTML, unified HTML) for two files."""
    a_text, b_text = read(old).splitlines(), read(new).splitlines()
    a_hl, b_hl = highlighted_lines(old), highlighted_lines(new)
    matcher = difflib.SequenceMatcher(None, a_text, b_text, autojunk=False)
    sbs, uni = [], []
    for group in matcher.get_grouped_opcodes(CONTEXT):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        head = f"@@ -{i1 + 1},{i2 - i1} +{j1 + 1},{j2 - j1} @@"
        sbs.append(f'<tr class="wb-hunk"><td colspan="4">{head}</td></tr>')
        uni.append(f'<tr class="wb-hunk"><td colspan="4">{head}</td></tr>')
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                for i, j in zip(range(a1, a2), range(b1, b2), strict=True):
                    sbs.append(f"<tr>{_cell(i + 1, a_hl[i], '')}{_cell(j + 1, b_hl[j], '')}</tr>")
                    uni.append(f'<tr><td class="wb-ln">{i + 1}</td><td class="wb-ln">{j + 1}'
                               f'</td><td class="wb-sign"> </td>'
                               f'<td class="wb-code">{a_hl[i] or " "}</td></tr>')
                continue
            for i, j in itertools.zip_longest(range(a1, a2), range(b1, b2)):
                left = _cell(i + 1, a_hl[i], "wb-del") if i is not None else \
                    _cell(None, "", "wb-empty")
                right = _cell(j + 1, b_hl[j], "wb-add") if j is not None else \
                    _cell(None, "", "wb-empty")
                sbs.append(f"<tr>{left}{right}</tr>")
            for i in range(a1, a2):
                uni.append(f'<tr class="wb-del"><td class="wb-ln">{i + 1}</td>'
                           f'<td class="wb-ln"></td><td class="wb-sign">-</td>'
                           f'<td class="wb-code wb-del">{a_hl[i] or " "}</td></tr>')
            for j in range(b1, b2):
                uni.append(f'<tr class="wb-add"><td class="wb-ln"></td>'
                           f'<td class="wb-ln">{j + 1}</td><td class="wb-sign">+</td>'
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


def stats(old: str, new: str) -> tuple[int, int]:
    added = removed = 0
    for line in difflib.unified_diff(read(old).splitlines(), read(new).splitlines(),
                                     lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def summary(path: str) -> str:
    if not path.endswith(".py"):
        return ""
    doc = ast.get_docstring(ast.parse(read(path)))
    return (doc or "").strip().split("\n", 1)[0].replace("|", "\\|")


SHORT = {"counterpart": "renamed for the same job", "moved": "moved", "changed": "changed",
         "added": "new", "kept": "reused from the earlier stage",
         "gone": "left in the earlier stage", "unchanged": "unchanged"}
KIND_ORDER = ["counterpart", "moved", "changed", "added", "kept", "gone", "unchanged"]
KIND_TEXT = {
    "counterpart": "same job, new name",
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
        for path, module, names in cmp.imports:
            target = module_path(module, names) or module
            used, by = grouped.setdefault(target, ([], []))
            used.extend(n for n in names if n not in used)
            by.append(short(path, cmp.b))
        for target, (used, by) in grouped.items():
            where = src(target) if target.endswith((".py", ".proto")) else f"`{target}`"
            out.append(f"| {where} | {', '.join(f'`{n}`' for n in used)} "
                       f"| {', '.join(dict.fromkeys(by))} |")
    shown = [c for c in changes if c.kind in ("counterpart", "moved", "changed")]
    if shown:
        out.append("\n## The differences\n")
    for n, c in enumerate(shown):
        assert c.old and c.new
        side, unified = render(c.old, c.new)
        key = f"{cmp.a}-{cmp.b}/{n}"
        _rendered[f"{key}/sbs"], _rendered[f"{key}/uni"] = side, unified
        old_name = Path(c.old).relative_to(STAGES[cmp.a]).as_posix()
        new_name = Path(c.new).relative_to(STAGES[cmp.b]).as_posix()
        title = (f"`{new_name}`" if old_name == new_name
                 else f"`{old_name}` → `{new_name}`")
        plus, minus = stats(c.old, c.new)
        out += [f"### {title}\n",
                f"{KIND_TEXT[c.kind].capitalize()}: {src(c.old)} → {src(c.new)}, "
                f"+{plus} −{minus} lines.\n",
                '=== "Side by side"\n', f"    <!-- wb-diff:{key}/sbs -->\n",
                '=== "Unified"\n', f"    <!-- wb-diff:{key}/uni -->\n"]
    return Page(uri, "\n".join(out) + "\n")


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
                   f"| {count['changed'] + count['counterpart']} | {count['moved']} "
                   f"| {count['added']} | {len(cmp.imports)} imports |")
    return Page(uri, "\n".join(out) + "\n")


def pages() -> list[Page]:
    _rendered.clear()
    comparisons = [compare(a, b) for a, b in PAIRS]
    return [index_page(comparisons), *(diff_page(c) for c in comparisons)]


def expand(page_html: str) -> str:
    """Put each diff's HTML where its placeholder comment is."""
    if "<!-- wb-diff:" not in page_html:
        return page_html
    for key, value in _rendered.items():
        page_html = page_html.replace(f"<!-- wb-diff:{key} -->", value)
    return page_html
