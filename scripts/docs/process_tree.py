"""Capture, from a running stage, the processes that exist while a container runs.

The stage pages show who is whose parent in each era. That is not drawn by hand: this
script starts each stage in a temporary directory (tests/engines.py, as the tests do),
runs `whalebones run -d -i -t --name ctrl busybox sh` against it, waits until the
runtime has exited, and writes what /proc says into docs/generated/, as a snippet the
stage page includes. It needs root (containers do), so its output is committed and
the docs build, which runs as anyone, only reads it.

    sudo make docs-process-trees        # all stages (stage 1 needs LXC: make deps-lxc)
    sudo PYTHONPATH=. .venv/bin/python scripts/docs/process_tree.py stage4

Paths are shortened in the output: $WORKDIR is the engine's temporary directory,
`python3` the interpreter; container ids are cut to 12 characters; the --net-prefix
that the test harness gives each engine (so that engines side by side never share a
bridge) is left out. Pids are real.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.engines import Engine, descendants, processes_of, repo_env, start_engine  # noqa: E402

OUT = REPO / "docs" / "generated"
STAGES = ("stage1", "stage2", "stage3", "stage4")
RUN = ["run", "-d", "-i", "-t", "--name", "ctrl", "busybox", "sh"]


@dataclass
class Process:
    pid: int
    ppid: int
    args: str
    role: str = ""


def read(pid: int) -> Process | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        args = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").replace(b"\0", b" ")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    command = args.decode(errors="replace") or f"[{stat[stat.index('(') + 1:stat.rindex(')')]}]"
    return Process(pid, int(fields[1]), command)


def comm(pid: int) -> str:
    if pid == os.getpid():
        return "this script, standing in for whoever started the engine"
    if pid == 1:
        return f"the host's init, {Path('/proc/1/comm').read_text().strip()}"
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def whalebones(engine: Engine, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "shared.client", "-H", engine.host, *args],
                         capture_output=True, text=True, timeout=60, env=repo_env(), cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"whalebones {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def shorten(text: str, engine: Engine) -> str:
    text = text.replace(str(engine.workdir), "$WORKDIR").replace(sys.executable, "python3")
    text = text.replace(str(REPO) + "/", "")
    text = re.sub(r" --net-prefix wt[0-9a-f]+", "", text)  # the test harness's, not the stage's
    return re.sub(r"\b([0-9a-f]{12})[0-9a-f]{52}\b", r"\1", text)


def roles(engine: Engine, container_pid: int) -> dict[int, str]:
    named = {engine.pid: "daemon", container_pid: "container pid 1"}
    for helper in engine.helpers:
        named[helper.pid] = "containerd"
    return named


def guess_role(proc: Process) -> str:
    if "shim" in proc.args and "--bundle" in proc.args:
        return "shim"
    if proc.args.startswith("lxc-start") or " lxc-start " in proc.args:
        return "lxc-start"
    if "runc" in proc.args:
        return "runtime (running?)"
    return ""


def tree(engine: Engine, container_pid: int) -> str:
    found = descendants(engine.pid) | processes_of(engine.workdir)
    pids = {engine.pid, container_pid, *(p.pid for p in found)}
    for helper in engine.helpers:
        pids |= {helper.pid, *(p.pid for p in descendants(helper.pid))}
    procs = {pid: proc for pid in pids if (proc := read(pid)) is not None}
    named = roles(engine, container_pid)
    for proc in procs.values():
        proc.role = named.get(proc.pid) or guess_role(proc)
    children: dict[int, list[Process]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc)
    lines = [f"{'PID':>7} {'PPID':>7}  {'WHAT':<16} COMMAND"]

    def show(proc: Process, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        lines.append(f"{proc.pid:>7} {proc.ppid:>7}  {proc.role:<16} {prefix}{branch}"
                     f"{shorten(proc.args, engine)}")
        kids = sorted(children.get(proc.pid, []), key=lambda p: p.pid)
        for i, kid in enumerate(kids):
            more = "" if top else ("   " if last else "│  ")
            show(kid, prefix + more, i == len(kids) - 1, False)

    tops = sorted((p for p in procs.values() if p.ppid not in procs), key=lambda p: p.pid)
    for proc in tops:
        lines.append(f"{'':>7} {'':>7}  {'':<16} (parent: pid {proc.ppid}, {comm(proc.ppid)})")
        show(proc, "", True, True)
    return "\n".join(lines)


def capture(name: str) -> str:
    with start_engine(name) as engine:
        cid = whalebones(engine, *RUN).strip()
        time.sleep(1.0)  # runc (stages 3, 4) has exited by now; let the tree settle
        info = json.loads(whalebones(engine, "inspect", cid))[0]
        container_pid = int(info["State"]["Pid"])
        outside = tree(engine, container_pid)
        inside = whalebones(engine, "exec", "ctrl", "ps", "-o", "pid,ppid,user,args")
        whalebones(engine, "rm", "-f", cid)
    return snippet(name, outside, inside)


def snippet(name: str, outside: str, inside: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Observed on {when}, Linux {platform.release()}, by "
        f"`scripts/docs/process_tree.py {name}` after "
        f"`whalebones {' '.join(RUN)}`:\n\n"
        f"```text\n{outside}\n```\n\n"
        "The same container from inside (`whalebones exec ctrl ps -o pid,ppid,user,args`): "
        "its own pid namespace, where `sh` is pid 1 and nothing of the engine is visible.\n\n"
        f"```text\n{inside.rstrip()}\n```\n"
    )


def failed(name: str, error: BaseException) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (f"!!! warning \"Not captured\"\n    `scripts/docs/process_tree.py {name}` could not "
            f"run this stage on the machine that last generated the docs: {first}\n")


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        print("process_tree.py: containers need root", file=sys.stderr)
        return 1
    names = argv or list(STAGES)
    OUT.mkdir(parents=True, exist_ok=True)
    status = 0
    for name in names:
        try:
            text = capture(name)
        except Exception as e:  # noqa: BLE001 - recorded in the snippet, the others go on
            text, status = failed(name, e), 1
            print(f"{name}: {e}", file=sys.stderr)
        (OUT / f"process-tree-{name}.md").write_text(text)
        print(f"{name}: docs/generated/process-tree-{name}.md")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
