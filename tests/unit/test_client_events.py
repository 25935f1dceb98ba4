"""Our CLI's `events`: the docker CLI's line and its reading of --since/--until."""

from __future__ import annotations

import os
import time

import pytest

from shared.client.commands.events import line, timestamp


@pytest.fixture
def utc():  # type: ignore[no-untyped-def]
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_a_line_as_the_docker_cli_prints_it(utc) -> None:  # type: ignore[no-untyped-def]
    event = {"Type": "container", "Action": "create", "timeNano": 1764700000123456789,
             "Actor": {"ID": "abc", "Attributes": {"name": "x", "image": "busybox"}}}
    assert line(event) == ("2025-12-02T18:26:40.123456789Z container create abc "
                           "(image=busybox, name=x)")


def test_since_and_until_as_the_docker_cli_sends_them() -> None:
    assert timestamp("1700000000.5", 0) == "1700000000.5"  # a Unix time, as given
    assert timestamp("10m", 1000.0) == "400.000000000"  # counted back from now
    assert timestamp("1h30m", 10000.0) == "4600.000000000"
    assert timestamp("2026-01-01T00:00:00Z", 0) == "1767225600.000000000"
    with pytest.raises(ValueError):
        timestamp("yesterday", 0)
