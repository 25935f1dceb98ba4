"""The path of one request through each era, drawn from a captured trace.

scripts/docs/request_trace.py ran `whalebones run --rm --name ctrl -it busybox sh` (and
typed `exit`) against each stage in trace mode (shared/trace.py) and kept every event
in docs/generated/trace-STAGE.jsonl. This module turns those events into a page at
every build: a mermaid sequence diagram per stage (each call an arrow, labelled with
how long it took; each step of the container's init a note) and the full timeline.
"""

from __future__ import annotations

import json
import re

from sitegen.common import REPO, Page, link

GENERATED = REPO / "docs" / "generated"
STAGES = {"stage1": "Stage 1: LXC", "stage2": "Stage 2: libcontainer",
          "stage3": "Stage 3: containerd", "stage4": "Stage 4: shims"}
# Left to right, from the user down to the kernel.
ORDER = ["client", "daemon", "libcontainer", "lxc", "containerd", "shim", "runc", "init"]
NAMES = {"client": "client", "daemon": "daemon", "libcontainer": "libcontainer (in the daemon)",
         "lxc": "LXC", "containerd": "containerd", "shim": "shim", "runc": "runc",
         "init": "container init"}
COMMAND = "whalebones run --rm --name ctrl -it busybox sh"
URI = "stages/request.md"


def load(stage: str) -> list[dict]:
    path = GENERATED / f"trace-{stage}.jsonl"
    if not path.is_file():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return sorted(records, key=lambda r: r["t"])


def tidy(what: str) -> str:
    """Shorter labels: API version prefix and container ids trimmed."""
    what = re.sub(r"^(\w+) /v1\.\d+/", r"\1 /", what)
    what = re.sub(r"\b([0-9a-f]{12})[0-9a-f]{52}\b", r"\1", what)
    return what


def mermaid_text(text: str) -> str:
    """Text safe inside a mermaid sequence message or note."""
    return (text.replace("`", "'").replace(";", "#59;").replace("#", "#35;")
            .replace("#35;59;", "#59;").replace("<", "#lt;").replace(">", "#gt;"))


def duration(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


def sequence(records: list[dict]) -> str:
    # libcontainer's own steps are marks for the bench's profile (tests/bench_profile.py);
    # the diagram notes the init's, and libcontainer may run in runc rather than the daemon.
    records = [r for r in records if not (r["kind"] == "step" and r["component"] == "libcontainer")]
    present = {r["component"] for r in records} | {r["peer"] for r in records if r["peer"]}
    lines = ["sequenceDiagram", "    autonumber"]
    for part in [p for p in ORDER if p in present] + sorted(present - set(ORDER)):
        lines.append(f"    participant {part} as {mermaid_text(NAMES.get(part, part))}")
    for r in records:
        what = mermaid_text(tidy(r["what"]))
        if r["kind"] == "call" and r["peer"]:
            lines.append(f"    {r['component']}->>{r['peer']}: {what} ({duration(r['ms'])})")
        elif r["kind"] == "step":
            lines.append(f"    Note over {r['component']}: {what}")
    return "\n".join(lines)


def timeline(records: list[dict]) -> str:
    start = records[0]["t"]
    out = ["| at (ms) | took | who | | what |", "|---:|---:|---|---|---|"]
    arrows = {"call": "→", "serve": "←", "work": "·", "step": "•"}
    for r in records:
        took = duration(r["ms"]) if r["kind"] != "step" else ""
        peer = f" {r['peer']}" if r["kind"] == "call" else ""
        what = tidy(r["what"]).replace("|", "\\|").replace("`", "'")
        out.append(f"| {(r['t'] - start) * 1000:.1f} | {took} | {r['component']} "
                   f"[{r['pid']}] | {arrows[r['kind']]}{peer} | `{what}` |")
    return "\n".join(out)


def summary(records: list[dict]) -> tuple[float, int, int]:
    """(wall time in ms, processes that took part, calls between components)."""
    end = max(r["t"] + r["ms"] / 1000 for r in records)
    pids = {r["pid"] for r in records if r["component"] != "init"}
    pids |= {1} if any(r["component"] == "init" for r in records) else set()
    calls = sum(1 for r in records if r["kind"] == "call")
    return (end - records[0]["t"]) * 1000, len(pids), calls


def pages() -> list[Page]:
    traces = {stage: load(stage) for stage in STAGES}
    src = link(URI, "source/scripts/docs/request_trace.py.md")
    trace_src = link(URI, "source/shared/trace.py.md")
    out = ["---\nhide:\n  - navigation\n---\n",  # room for four sequence diagrams
           "# One request, four eras\n",
           f"What happens, in each era, when you type `{COMMAND}` and then `exit`? Not a "
           "drawing: every component of the engine wrote down what it called and what "
           f"it served, with timings, in trace mode ([`shared/trace.py`]({trace_src}), "
           "`WHALEBONES_TRACE=FILE`). "
           f"[`scripts/docs/request_trace.py`]({src}) captured one such run per stage "
           "(`sudo make docs-traces` captures them again) and this page is drawn from "
           "those files each time the site is built.\n",
           "Each arrow is a call from one component to another, labelled with how long "
           "the caller waited for the answer. Each note is a step of the container's "
           "init, the process that becomes the container. Notice the pid it gives: 1, "
           "once it is inside its new pid namespace.\n",
           "| stage | wall time of the run | processes that took part | calls |",
           "|---|---:|---:|---:|"]
    for stage, title in STAGES.items():
        records = traces[stage]
        if records:
            wall, procs, calls = summary(records)
            anchor = title.lower().replace(":", "").replace(" ", "-")
            out.append(f"| [{title}](#{anchor}) | {wall:.0f} ms | {procs} | {calls} |")
    out.append("")
    for stage, title in STAGES.items():
        records = traces[stage]
        page = link(URI, f"stages/{stage}.md")
        out.append(f"## {title}\n")
        if not records:
            out.append(f"No trace captured for this stage yet: `sudo make docs-traces`. "
                       f"See [the stage's page]({page}).\n")
            continue
        components = {r["component"] for r in records} | {r.get("peer") or "" for r in records}
        if components <= {"client", "daemon", ""}:
            out.append("!!! note \"Only the client and the daemon are traced here\"\n"
                       "    This era's executor does not write trace events yet, so the "
                       "diagram stops at the daemon; the "
                       f"[process tree]({page}#the-processes-while-a-container-runs) "
                       "shows who does the rest.\n")
        out += ["```mermaid", sequence(records), "```\n",
                '??? info "Every event, with timings"',
                "    " + timeline(records).replace("\n", "\n    "), ""]
    return [Page(URI, "\n".join(out) + "\n")]
