"""Unit tests (no daemon) of the log drivers' choice and options: json-file, local,
none, and the others refused (shared/daemon/logdrivers.py)."""

from __future__ import annotations

import pytest

from shared.daemon import logdrivers
from shared.daemon.logs import Limits


@pytest.mark.parametrize(("driver", "config", "limits"), [
    ("json-file", {}, Limits()), ("", {"max-size": "1k"}, Limits(1000, 1)),
    ("none", {}, Limits()),
    ("local", {}, Limits(20 * 1024 * 1024, 5, True)),  # moby's local defaults
    ("local", {"max-size": "1k", "max-file": "2"}, Limits(1000, 2, True)),
    ("local", {"compress": "false", "max-file": "1"}, Limits(20 * 1024 * 1024, 1, False)),
    ("local", {"compress": "false", "max-file": "0"}, Limits(20 * 1024 * 1024, 1, False)),
])
def test_options_as_dockerd_reads_them(driver: str, config: dict, limits: Limits) -> None:
    assert logdrivers.check(driver, config) == limits


@pytest.mark.parametrize(("driver", "config", "words"), [
    ("syslog", {}, "logger: no log driver named 'syslog' is registered"),
    ("bogus", {}, "no log driver named 'bogus'"),
    ("none", {"max-size": "1k"}, "invalid logging opts for driver none"),
    ("local", {"foo": "1"}, "unknown log opt 'foo' for log driver local"),
    ("local", {"max-size": "x"}, "invalid value for max-size: x: invalid size: 'x'"),
    ("local", {"max-file": "x"}, 'invalid value for max-file: x: strconv.Atoi: parsing "x"'),
    ("local", {"max-file": "-1", "compress": "false"}, "max-file must not be negative"),
    ("local", {"max-file": "0"}, "compression cannot be enabled when max file count is 1"),
    ("local", {"compress": "maybe"}, "invalid boolean value for compress: strconv.ParseBool"),
    ("local", {"tag": "x"}, "log opt 'tag' is not supported by this engine"),
])
def test_refused_in_dockerds_words(driver: str, config: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        logdrivers.check(driver, config)


def test_where_each_driver_keeps_its_log() -> None:
    def path(driver: str) -> str:
        return logdrivers.container_log_path("/c", "abc", {"LogConfig": {"Type": driver}})

    assert path("json-file") == "/c/abc-json.log"
    assert path("local") == "/c/local-logs/container.log"
    assert path("none") == ""
    assert logdrivers.readable({"LogConfig": {"Type": "local"}})
    assert not logdrivers.readable({"LogConfig": {"Type": "none"}})
