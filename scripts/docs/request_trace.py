"""Capture the path of one request through each stage, as trace mode records it.

`whalebones run --rm --name ctrl -it busybox sh`, then `exit` typed into the container's
shell, against each stage started with WHALEBONES_TRACE set (shared/trace.py): every
component (client, daemon, containerd, shim, runc, the container's init) appends what
it calls and serves, with timings. The raw lines go to docs/generated/trace-STAGE.jsonl;
the docs build draws the page from them (scripts/docs/sitegen/requests.py). Like the
process trees, capturing needs root; building the docs does not.

    sudo make docs-traces
    sudo PYTHONPATH=. .venv/bin/python scripts/docs/request_trace.py stage4
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.engines import repo_env, start_engine  # noqa: E402

OUT = REPO / "docs" / "generated"
STAGES = ("stage1", "stage2", "stage3", "stage4")
COMMAND = ["run", "--rm", "--name", "ctrl", "-it", "busybox", "sh"]


def capture(name: str) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="wb-trace-") as tmp:
        path = Path(tmp) / "trace.jsonl"
        os.environ["WHALEBONES_TRACE"] = str(path)  # the engine's processes inherit it
        try:
            with start_engine(name) as engine:
                path.write_text("")  # the request only, not the engine's start-up
                client = shlex.join([sys.executable, "-m", "shared.client", "-H", engine.host,
                                     *COMMAND])
                # -it wants a terminal: script(1) gives the client one; we type `exit`.
                result = subprocess.run(["script", "-qec", client, "/dev/null"],
                                        input="exit\n", capture_output=True, text=True,
                                        env=repo_env(), cwd=REPO, timeout=60)
                if result.returncode != 0:
                    raise RuntimeError(f"{name}: the run exited {result.returncode}: "
                                       f"{result.stdout[-500:]}")
        finally:
            del os.environ["WHALEBONES_TRACE"]
        records = [json.loads(line) for line in path.read_text().splitlines() if line]
    return sorted(records, key=lambda r: r["t"])


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        print("request_trace.py: containers need root", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    status = 0
    for name in argv or list(STAGES):
        try:
            records = capture(name)
        except Exception as e:  # noqa: BLE001 - reported; the other stages go on
            print(f"{name}: not captured: {e}", file=sys.stderr)
            status = 1
            continue
        target = OUT / f"trace-{name}.jsonl"
        target.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
        print(f"{name}: {len(records)} events -> {target.relative_to(REPO)}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
