"""Run one stage's cgroup checks on this machine, whichever cgroup version it has.

    sudo .venv/bin/python -m tests.cgroupv2.checks [--stage stage2] [--junit FILE]

On a pure cgroup-v2 host (Debian 12, Ubuntu 22.04+, Fedora) this proves the v2 code
path at full speed; tests/cgroupv2/vm.py runs this same command inside a pure-v2 VM.
The first line of output says which cgroup version was exercised. Exit status: 0 when
nothing failed.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path

from tests import cgroupv2
from tests.cgroupv2 import cgroupfs
from tests.cgroupv2.harness import Result, Skip, report_line, run_check, summary, write_junit


def stages() -> list[str]:
    """The stages with checks: a module tests/cgroupv2/stageN.py each."""
    return sorted(m.name for m in pkgutil.iter_modules(cgroupv2.__path__)
                  if m.name.startswith("stage"))


def run(stage: str, junit: Path | None) -> list[Result]:
    if stage not in stages():
        raise SystemExit(f"no cgroup checks for {stage!r}; known: {', '.join(stages())}")
    module = importlib.import_module(f"tests.cgroupv2.{stage}")
    print(f"{stage}: {cgroupfs.describe()}", flush=True)
    results: list[Result] = []
    started = time.monotonic()
    try:
        with module.session() as session:
            for check in module.CHECKS:
                result = run_check(check.__name__, lambda c=check: c(session))
                print(report_line(result), flush=True)
                results.append(result)
    except Skip as e:  # the whole stage cannot run here (not root...)
        results = [Result(f"{stage} (all checks)", "skipped", 0.0, str(e))]
        print(report_line(results[0]))
    except Exception as e:  # setup or teardown broke: that is a failure too
        results.append(Result(f"{stage} (session)", "failed", 0.0, f"{type(e).__name__}: {e}"))
        print(report_line(results[-1]))
    if junit is not None:
        write_junit(junit, f"cgroupv2.{stage}", results,
                    {"cgroup": f"v{cgroupfs.version()}", "cgroup_description": cgroupfs.describe(),
                     "seconds": f"{time.monotonic() - started:.1f}"})
    print(f"{summary(results)} in {time.monotonic() - started:.1f} s "
          f"(cgroup v{cgroupfs.version()})", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage", default="stage2", help=f"one of {', '.join(stages())}")
    parser.add_argument("--junit", type=Path, help="also write a JUnit XML report here")
    args = parser.parse_args(argv)
    results = run(args.stage, args.junit)
    return 1 if any(r.outcome == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
