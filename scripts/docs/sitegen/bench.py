"""The Benchmarks page's numbers, and every number another page quotes from `make bench`.

`make bench` (tests/bench.py) merges what it measured into docs/generated/bench.json,
committed with the machine and the date. Pages never copy a number by hand: they hold
a placeholder, expanded here at every build from that file, so they cannot drift.

    <!-- wb-bench:machine -->           the machine, and when each part was measured
    <!-- wb-bench:ratios -->            the end-to-end table, each row against docker
    <!-- wb-bench:bars -->              a stacked bar per stage, beside docker (inline SVG)
    <!-- wb-bench:phases -->            each stage's phases, as a table
    <!-- wb-bench:runtimes -->          whalebones-runc, runc and crun, verb by verb
    <!-- wb-bench:floors -->            the host's own tools on the same work
    <!-- wb-bench:scale -->             many detached containers (tests/bench_scale.py)
    <!-- wb-bench:wall STAGE -->        inline: the stage's traced run, in ms
    <!-- wb-bench:x-docker STAGE -->    inline: that run over docker's, measured in pairs
    <!-- wb-bench:verb RUNTIME VERB --> inline: a runtime verb's median, in ms
    <!-- wb-bench:scale ENGINE KEY -->  inline: one figure of the scale part
    <!-- wb-bench:floor COMMAND -->     inline: one of the floors, in ms
    <!-- wb-bench:phase STAGE PHASE -->  inline: one phase of a stage's profile, in ms
    <!-- wb-bench:process-cost STAGE --> inline: the runc and shim processes' start-ups,
                                        imports and exits in that stage's run, in ms
    <!-- wb-bench:x-docker-without-process-cost STAGE -->  inline: the ratio without them
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

from sitegen.common import REPO

DATA = REPO / "docs" / "generated" / "bench.json"
PLACEHOLDER = re.compile(r"<!-- wb-bench:([\w-]+)((?: [^ >][^>]*?)?) -->")
MISSING = "(not measured yet: `make bench`)"

# Colours by what a phase is: the client's own start, an API request, the daemon's
# own work, a call to the next component down, and what no request covers.
COLOURS = {"client": "#4e79a7", "request": "#59a14f", "work": "#b07aa1",
           "call": "#f28e2b", "rest": "#bab0ac", "docker": "#2f2f2f"}


def load() -> dict:
    return json.loads(DATA.read_text()) if DATA.is_file() else {}


# ---------------------------------------------------------------- the bars (pure)


def kind(label: str) -> str:
    if label.startswith("client"):
        return "client"
    if label.startswith("request") or label.startswith("start:"):
        return "request"
    if "→" in label:
        return "call"
    if label.startswith("daemon:"):
        return "work"
    return "rest"


def segments(phases: list[dict], wall: float) -> list[tuple[str, float]]:
    """A stage's run cut into consecutive pieces for one bar: the client's start, each
    request, with `start` opened up into what the daemon does for it (its own work and
    its calls to the executor), and the rest (the exit, the delete, gaps)."""
    out: list[tuple[str, float]] = []
    inside_start = False
    start_ms = 0.0
    start_parts = 0.0
    for ph in phases:
        depth, name, ms = ph["depth"], ph["phase"], ph["ms"]
        if depth == 0:
            if inside_start:
                out.append(("start: HTTP, daemon's bookkeeping", max(start_ms - start_parts, 0)))
                inside_start = False
            if name == "request: start":
                inside_start, start_ms, start_parts = True, ms, 0.0
            elif name.startswith(("client", "request")):
                out.append((name, ms))
        elif inside_start and depth == 2 and name.startswith("daemon"):  # its own parts
            out.append((name, ms))
            start_parts += ms
    if inside_start:
        out.append(("start: HTTP, daemon's bookkeeping", max(start_ms - start_parts, 0)))
    covered = sum(ms for _, ms in out)
    out.append(("exit, delete, gaps", max(wall - covered, 0.0)))
    return [(name, ms) for name, ms in out if ms > 0]


def stacked_bars(rows: list[tuple[str, list[tuple[str, float]]]], width: int = 760) -> str:
    """Horizontal stacked bars on one scale, as an SVG (no script, no library): each
    row a label and its segments; each segment says its phase and ms on hover."""
    label_w, bar_h, gap, legend_h = 150, 24, 12, 18
    area = width - label_w - 60
    longest = max((sum(ms for _, ms in segs) for _, segs in rows), default=0) or 1
    scale = area / longest
    legend = [("client", "client start"), ("request", "API request"),
              ("work", "daemon's own work"), ("call", "call to the next component"),
              ("rest", "exit, delete, gaps"), ("docker", "docker")]
    height = len(rows) * (bar_h + gap) + 2 * legend_h  # the legend: 2 rows of 3
    out = [f'<svg class="wb-bench-bars" xmlns="http://www.w3.org/2000/svg" '
           f'viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-label="time per phase, per stage, beside docker" '
           f'font-family="sans-serif" font-size="12">']
    y = 0
    for title, segs in rows:
        out.append(f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.0f}" '
                   f'text-anchor="end">{html.escape(title)}</text>')
        x = float(label_w)
        # Bars and swatches in groups of their own: the words lie beside them, not
        # inside (the site test reads a <text> beside a <rect> as the rect's label).
        out.append('<g class="wb-bar">')
        for name, ms in segs:
            w = ms * scale
            colour = COLOURS["docker"] if title.startswith("docker") else COLOURS[kind(name)]
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                       f'fill="{colour}" stroke="#fff" stroke-width="0.5">'
                       f'<title>{html.escape(name)}: {ms:.1f} ms</title></rect>')
            x += w
        out.append("</g>")
        total = sum(ms for _, ms in segs)
        out.append(f'<text x="{x + 4:.1f}" y="{y + bar_h * 0.7:.0f}">{total:.0f} ms</text>')
        y += bar_h + gap
    for i, (k, text) in enumerate(legend):
        lx = label_w + (i % 3) * (area // 3)
        ly = y + (i // 3) * legend_h
        out.append(f'<g><rect x="{lx}" y="{ly}" width="10" height="10" '
                   f'fill="{COLOURS[k]}"/></g><text x="{lx + 14}" y="{ly + 9}">{text}</text>')
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- the page's parts


def table(header: list[str], rows: list[list[str]], align: str = "---:") -> str:
    return "\n".join(["| " + " | ".join(header) + " |",
                      "|---|" + (align + "|") * (len(header) - 1),
                      *("| " + " | ".join(r) + " |" for r in rows)]) + "\n"


def machine(data: dict) -> str:
    m = data.get("machine")
    if not m:
        return MISSING
    when = data.get("when") or {}
    names = {"median_ms": "end to end", "scale": "many containers", "pull_ms": "pulls",
             "build_ms": "builds", "supervisor_ms": "supervisor"}
    dates = "; ".join(f"{names.get(part, part)}: {stamp.replace('T', ' ').rstrip('Z')} UTC"
                      for part, stamp in sorted(when.items()))
    return (f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}, "
            f"Debian {m.get('os', '?')}, cgroups {m['cgroups']}. Measured ({dates}).")


def ratios(data: dict) -> str:
    medians: dict[str, float] = data.get("median_ms") or {}
    if not medians:
        return MISSING
    base = medians.get(data.get("baseline") or "", 0.0)
    # A stage's row is divided by docker's median in the same turns (tests/bench.py
    # medians_ms); the other rows by docker's row, the median of those.
    paired: dict[str, float] = data.get("paired_docker_ms") or {}
    rows = [[f"`{name}`", f"{ms:.0f}", f"{ms / beside:.2f}" if beside else ""]
            for name, ms in sorted(medians.items(), key=lambda kv: kv[1])
            for beside in [paired.get(name, base)]]
    return table(["contender", "median ms", "× docker"], rows)


def stage_rows(data: dict) -> list[tuple[str, dict]]:
    return sorted((data.get("profile") or {}).get("stages", {}).items())


def bars(data: dict) -> str:
    rows: list[tuple[str, list[tuple[str, float]]]] = []
    for stage, p in stage_rows(data):
        rows.append((stage, segments(p["phases"], p["wall_ms"])))
        if "docker_ms" in p:
            rows.append((f"docker (beside {stage})", [("docker run", p["docker_ms"])]))
    return stacked_bars(rows) + "\n" if rows else MISSING


def phases(data: dict) -> str:
    out = []
    for stage, p in stage_rows(data):
        docker = f", docker's {p['docker_ms']:.0f} ms in the same pairs" if "docker_ms" in p \
            else ""
        out.append(f'??? info "{stage}: every phase ({p["wall_ms"]:.0f} ms{docker})"\n')
        rows = [["&nbsp;&nbsp;" * ph["depth"] + html.escape(ph["phase"]).replace("|", "\\|"),
                 f"{ph['ms']:.1f}"] for ph in p["phases"]]
        out.append("    " + table(["phase", "median ms"], rows).replace("\n", "\n    "))
    return "\n".join(out) if out else MISSING


def runtimes(data: dict) -> str:
    r = (data.get("profile") or {}).get("runtimes")
    if not r:
        return MISSING
    verbs = ["run", "create", "start", "delete"]
    rows = [[f"`{name}`", *(f"{ms.get(v, 0):.1f}" for v in verbs)]
            for name, ms in r["verbs_ms"].items()]
    out = [f"Median of {r['runs']} runs each, interleaved, in ms:\n",
           table(["runtime", *verbs], rows), "\n`whalebones-runc run`, phase by phase:\n",
           table(["phase", "median ms"],
                 [["&nbsp;&nbsp;" * ph["depth"] + html.escape(ph["phase"]), f"{ph['ms']:.1f}"]
                  for ph in r["whalebones_runc_run"]])]
    return "\n".join(out)


def floors(data: dict) -> str:
    f = (data.get("profile") or {}).get("floors")
    if not f:
        return MISSING
    return table(["the host's own tools", "median ms"], [[f"`{k}`", f"{v:.1f}"]
                                                          for k, v in f.items()])


def scale(data: dict) -> str:
    s = data.get("scale") or {}
    if not s:
        return MISSING
    keys = list(dict.fromkeys(k for v in s.values() for k in v))
    return table(["", *s], [[k, *(str(v.get(k, "")) for v in s.values())] for k in keys])


# ---------------------------------------------------------------- inline figures


def process_cost(phases: list[dict]) -> float:
    """What the runtime's and the shim's processes cost around their work: each
    one's start-up, imports and exit (`runc: ...`, `shim: ...`), and the shim's own
    start (containerd's `start shim`: the interpreter, the socket, the fork), in ms."""
    return sum(ph["ms"] for ph in phases if ph["phase"].startswith(("runc:", "shim:"))
               or ph["phase"].endswith(": start shim"))


def ms_text(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


def inline(data: dict, name: str, args: list[str]) -> str:
    stages = dict(stage_rows(data))
    try:
        if name == "phase":
            wanted = " ".join(args[1:])
            return next(ms_text(ph["ms"]) for ph in stages[args[0]]["phases"]
                        if ph["phase"] == wanted)
        if name == "process-cost":
            return ms_text(process_cost(stages[args[0]]["phases"]))
        if name == "x-docker-without-process-cost":
            p = stages[args[0]]
            return f"{(p['wall_ms'] - process_cost(p['phases'])) / p['docker_ms']:.2f}×"
        if name == "wall":
            return ms_text(stages[args[0]]["wall_ms"])
        if name == "x-docker":
            p = stages[args[0]]
            return f"{p['wall_ms'] / p['docker_ms']:.2f}×"
        if name == "verb":
            return ms_text(data["profile"]["runtimes"]["verbs_ms"][args[0]][args[1]])
        if name == "scale":
            return str(data["scale"][args[0]][" ".join(args[1:])])
        if name == "floor":
            return ms_text(data["profile"]["floors"][" ".join(args)])
    except (KeyError, IndexError, ZeroDivisionError, TypeError, StopIteration):
        pass
    return MISSING


BLOCKS: dict[str, Callable[[dict], str]] = {
    "machine": machine, "ratios": ratios, "bars": bars, "phases": phases,
    "runtimes": runtimes, "floors": floors, "scale": scale}


INLINE = {"wall", "x-docker", "verb", "scale", "floor", "phase", "process-cost",
          "x-docker-without-process-cost"}


def expand(markdown: str, data: dict | None = None,
           warn: Callable[[str], None] = lambda _: None) -> str:
    """Every placeholder of a page, replaced by what bench.json says. A placeholder
    this module does not know is a warning (which fails `mkdocs build --strict`):
    an HTML comment left as it is would vanish from the page without a word."""
    if "<!-- wb-bench:" not in markdown:
        return markdown
    found = load() if data is None else data

    def one(m: re.Match) -> str:
        name, args = m.group(1), m.group(2).split()
        if name in BLOCKS and not args:
            return BLOCKS[name](found)
        if name not in INLINE:
            warn(f"unknown placeholder {m.group(0)}")
        return inline(found, name, args)

    return PLACEHOLDER.sub(one, markdown)
