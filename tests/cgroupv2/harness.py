"""A tiny test runner for the cgroup checks: plain functions, plain asserts.

Why not pytest? Inside the VM every instruction is emulated (TCG): `import pytest`
alone takes ~10 s there and Python ~17x longer for everything. These checks need
nothing pytest offers but asserts and a report, so they get a forty-line runner:

    check functions   `def check_x(session) -> None`, in a stage module's CHECKS list;
                      an AssertionError fails it, Skip("reason") skips it
    a report          one line per check as it runs, a summary line
                      `N passed, N failed, N skipped`, and a JUnit XML file that the
                      host (or any CI) reads back
"""

from __future__ import annotations

import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class Skip(Exception):  # noqa: N818 - reads as `raise Skip("no docker CLI")`
    """Raised by a check that cannot run here; the reason is reported, never hidden."""


@dataclass(frozen=True)
class Result:
    name: str
    outcome: str  # passed | failed | skipped
    seconds: float
    message: str = ""


def run_check(name: str, check: Callable[[], None]) -> Result:
    start = time.monotonic()
    try:
        check()
    except Skip as e:
        return Result(name, "skipped", time.monotonic() - start, str(e))
    except Exception:  # an assert, or anything the code under test raised
        return Result(name, "failed", time.monotonic() - start, traceback.format_exc())
    return Result(name, "passed", time.monotonic() - start)


def summary(results: list[Result]) -> str:
    counts = {o: sum(r.outcome == o for r in results) for o in ("passed", "failed", "skipped")}
    return ", ".join(f"{n} {o}" for o, n in counts.items())


def write_junit(path: Path, suite: str, results: list[Result],
                properties: dict[str, str]) -> None:
    """JUnit XML: what CI systems and pytest's own --junitxml speak."""
    root = ET.Element("testsuite", name=suite, tests=str(len(results)),
                      failures=str(sum(r.outcome == "failed" for r in results)),
                      skipped=str(sum(r.outcome == "skipped" for r in results)),
                      time=f"{sum(r.seconds for r in results):.2f}")
    props = ET.SubElement(root, "properties")
    for key, value in properties.items():
        ET.SubElement(props, "property", name=key, value=value)
    for r in results:
        case = ET.SubElement(root, "testcase", classname=suite, name=r.name,
                             time=f"{r.seconds:.2f}")
        if r.outcome == "failed":
            ET.SubElement(case, "failure", message=r.message.strip().splitlines()[-1]
                          ).text = r.message
        elif r.outcome == "skipped":
            ET.SubElement(case, "skipped", message=r.message)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="unicode", xml_declaration=True)


def read_junit(path: Path) -> tuple[list[Result], dict[str, str]]:
    """The results and properties a write_junit() wrote (the host reads the VM's)."""
    root = ET.parse(path).getroot()
    properties = {p.get("name", ""): p.get("value", "") for p in root.iter("property")}
    results = []
    for case in root.iter("testcase"):
        failure, skipped = case.find("failure"), case.find("skipped")
        if failure is not None:
            outcome, message = "failed", failure.text or failure.get("message", "")
        elif skipped is not None:
            outcome, message = "skipped", skipped.get("message", "")
        else:
            outcome, message = "passed", ""
        results.append(Result(case.get("name", "?"), outcome, float(case.get("time", 0)),
                              message))
    return results, properties


def report_line(r: Result) -> str:
    line = f"{r.outcome.upper():8} {r.name} ({r.seconds:.1f} s)"
    if r.outcome == "skipped":
        line += f": {r.message}"
    elif r.outcome == "failed":
        line += "\n" + "\n".join("    " + x for x in r.message.rstrip().splitlines())
    return line
