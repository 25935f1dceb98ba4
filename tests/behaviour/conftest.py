"""Fixtures of the behaviour suite: one daemon per engine per session, clients, leak checks.

Engines come from `--engine` (repeatable, comma-separated), else $WB_ENGINES, else
`stage2`. Every test runs once per engine; see README.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.behaviour.clients import Clients
from tests.engines import ENGINES, Engine, leaks, snapshot, start_engine

_started: list[Engine] = []


def selected_engines(config: pytest.Config) -> list[str]:
    given = config.getoption("engine") or [os.environ.get("WB_ENGINES") or "stage2"]
    names = [n.strip() for item in given for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in ENGINES]
    if unknown:
        raise pytest.UsageError(f"unknown engine(s) {unknown}; known: {', '.join(ENGINES)}")
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", selected_engines(metafunc.config), indirect=True,
                             scope="session")


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A running engine, started once per session and stopped (by PID) at its end."""
    with start_engine(request.param) as running:
        _started.append(running)
        yield running


@pytest.fixture(autouse=True)
def _engine_scope(request: pytest.FixtureRequest, engine: Engine) -> Iterator[None]:
    """Skip ours_only tests on the reference (and the reverse); then check for leaks.

    Set up before `clients` and torn down after it: the leak check sees the state once
    the test's containers are removed.
    """
    marker = request.node.get_closest_marker("ours_only")
    if marker and not engine.ours:
        pytest.skip(f"ours only: {marker.kwargs.get('reason', '')}")
    marker = request.node.get_closest_marker("reference_only")
    if marker and engine.ours:
        pytest.skip(f"reference only: {marker.kwargs.get('reason', '')}")
    before = snapshot(engine) if engine.ours else None
    yield
    if before is not None:
        found = leaks(engine, before)
        assert not found, f"{engine.name} leaked after the test: " + "; ".join(found)


@pytest.fixture
def clients(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Clients]:
    helper = Clients(engine, request.node.name)
    yield helper
    helper.cleanup()


CLIS = ["docker", "ours"]


@pytest.fixture(params=CLIS)
def cli(request: pytest.FixtureRequest, clients: Clients) -> Cli:
    """The docker CLI or ours: `cli("run", "--rm", "busybox", "true")` -> CompletedProcess."""
    return Cli(request.param, clients.docker if request.param == "docker" else clients.ours)


class Cli:
    """A CLI runner that knows which CLI it is (`kind`), for messages that differ."""

    def __init__(self, kind: str, run: Callable[..., Any]) -> None:
        self.kind, self._run = kind, run

    def __call__(self, *args: str, **kwargs: Any) -> Any:
        return self._run(*args, **kwargs)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for running in _started:
        for note in running.notes:
            terminalreporter.write_line(f"engine note: {note}")
