"""shared/api/prunefilters.py's `until` and label rules, without a daemon (pure)."""

from __future__ import annotations

import pytest

from shared.api.prunefilters import PruneFilters, parse_until
from shared.errors import InvalidParameter

NOW = 1_700_000_000.0


@pytest.mark.parametrize(("value", "moment"), [
    ("24h", NOW - 86400), ("1h30m", NOW - 5400), ("1.5h", NOW - 5400), ("10s", NOW - 10),
    ("-1h", NOW + 3600), ("0", 0.0), ("1600000000", 1600000000.0),
    ("1600000000.5", 1600000000.5), ("2023-11-14T22:13:20Z", NOW),
    ("2023-11-14T23:13:20+01:00", NOW),
])
def test_until_reads_durations_unix_times_and_dates(value: str, moment: float) -> None:
    assert parse_until(value, NOW) == pytest.approx(moment)


@pytest.mark.parametrize("value", ["soon", "1d", "h", ""])
def test_until_refuses_what_it_cannot_read(value: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_until(value, NOW)


def test_labels_and_until_spare() -> None:
    f = PruneFilters({"label": ["a", "b=1"], "label!": ["keep"]}, until=100.0)
    assert not f.spares({"a": "x", "b": "1"}, created=50)
    assert f.spares({"a": "x", "b": "2"}, created=50)  # b is not 1
    assert f.spares({"a": "x", "b": "1", "keep": ""}, created=50)  # label! keep
    assert f.spares({"a": "x", "b": "1"}, created=150)  # made after until
    assert not PruneFilters({}, None).spares({}, created=1e12)
