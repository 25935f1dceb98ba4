"""Options and markers shared by every test directory."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine", action="append", default=None, metavar="NAME[,NAME]",
        help="engines for tests/behaviour (default: $WB_ENGINES, else stage2); "
             "see tests/engines.py ENGINES")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ours_only(reason): behaviour only Whalebones has; skipped on the reference")
    config.addinivalue_line(
        "markers", "reference_only(reason): runs only against the real Docker engine")
