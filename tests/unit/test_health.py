"""Health checks' pure parts: the create-time merge and checks (moby's daemon/commit.go
merge, daemon/container.go validateHealthCheck), the output cap, Go's durations."""

from __future__ import annotations

import pytest

from shared import goduration
from shared.daemon import health
from shared.errors import InvalidParameter

S = goduration.SECOND
IMAGE = {"Test": ["CMD-SHELL", "check"], "Interval": 30 * S, "Timeout": 3 * S, "Retries": 2}


def test_the_request_wins_field_by_field_over_the_image() -> None:
    assert health.merge(None, IMAGE) == IMAGE
    assert health.merge({"Test": ["CMD", "x"]}, None) == {"Test": ["CMD", "x"]}
    assert health.merge({"Interval": S, "Retries": 0}, IMAGE) == {**IMAGE, "Interval": S}
    # NONE keeps the image's other fields, as moby's merge does; it turns the check off
    assert health.merge({"Test": ["NONE"]}, IMAGE) == {**IMAGE, "Test": ["NONE"]}
    assert health.merge(None, None) is None


@pytest.mark.parametrize(("hc", "message"), [
    ({"Interval": 999_999}, "Interval in Healthcheck cannot be less than 1ms"),
    ({"Timeout": 1}, "Timeout in Healthcheck cannot be less than 1ms"),
    ({"Retries": -1}, "Retries in Healthcheck cannot be negative"),
    ({"StartPeriod": -5}, "StartPeriod in Healthcheck cannot be less than 1ms"),
    ({"StartInterval": 10}, "StartInterval in Healthcheck cannot be less than 1ms"),
])
def test_validate_says_what_dockerd_says(hc: dict, message: str) -> None:
    with pytest.raises(InvalidParameter, match=f"^{message}$"):
        health.validate({"Test": ["CMD", "true"], **hc})


def test_zero_means_the_default_and_passes() -> None:
    health.validate({"Test": ["CMD", "true"], "Interval": 0, "Timeout": goduration.MILLISECOND})


def test_probe_output_is_cut_at_4096_bytes_and_marked() -> None:
    buf = health.LimitedBuffer()
    buf.write(b"a" * 4000)
    buf.write(b"b" * 200)
    assert buf.text() == "a" * 4000 + "b" * 96 + "..."


@pytest.mark.parametrize(("text", "ns", "shown"), [
    ("300ms", 300_000_000, "300ms"), ("1.5s", 1_500_000_000, "1.5s"),
    ("90s", 90 * S, "1m30s"), ("1h", 3600 * S, "1h0m0s"), ("0", 0, "0s"),
    ("2h45m", (2 * 3600 + 45 * 60) * S, "2h45m0s"), ("-1s", -S, "-1s"), ("1us", 1000, "1µs"),
])
def test_go_durations_both_ways(text: str, ns: int, shown: str) -> None:
    assert goduration.parse(text) == ns
    assert goduration.format(ns) == shown


@pytest.mark.parametrize(("text", "message"), [
    ("1", 'time: missing unit in duration "1"'),
    ("1x", 'time: unknown unit "x" in duration "1x"'),
    ("x", 'time: invalid duration "x"'),
])
def test_go_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        goduration.parse(text)
