"""The attack suite runs as the behaviour suite does: once per engine of $WB_ENGINES
(or --engine), the reference included, with the same fixtures and leak checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.behaviour import conftest as behaviour
from tests.behaviour.clients import Clients

# The behaviour suite's fixtures and hooks, shared: the same engines, the same leak checks.
engine = behaviour.engine
clients = behaviour.clients
_engine_scope = behaviour._engine_scope
pytest_generate_tests = behaviour.pytest_generate_tests
pytest_terminal_summary = behaviour.pytest_terminal_summary


@pytest.fixture
def hostile(clients: Clients) -> Iterator[Clients]:
    """clients, and every image loaded under a `wb-hostile-*` tag removed after the test."""
    yield clients
    clients.cleanup()
    for image in clients.api("GET", "/images/json").json():
        for tag in image.get("RepoTags") or []:
            if tag.startswith("wb-hostile-"):
                clients.api("DELETE", f"/images/{tag}?force=1")
