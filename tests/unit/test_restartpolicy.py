"""The restart manager's decisions and the policy's validation (pure: no container
runs here; tests/behaviour/test_restart.py runs them)."""

from __future__ import annotations

import pytest

from shared.daemon.restartpolicy import RestartManager, validate
from shared.errors import InvalidParameter


def manager(name: str, retries: int = 0, count: int = 0) -> RestartManager:
    return RestartManager({"RestartPolicy": {"Name": name, "MaximumRetryCount": retries}},
                          count)


def test_the_back_off_doubles_from_100_ms_and_starts_over_after_10_s_of_running() -> None:
    m = manager("always")
    delays = [m.should_restart(0, False, 0.01) for _ in range(4)]
    assert delays == [0.1, 0.2, 0.4, 0.8]
    assert m.should_restart(0, False, 12.0) == 0.1
    assert m.restart_count == 5


def test_the_back_off_stops_growing_at_a_minute() -> None:
    m = manager("always")
    delays = [m.should_restart(1, False, 0) for _ in range(12)]
    assert delays[-1] == 60.0


def test_on_failure_restarts_failures_only_and_at_most_n_times() -> None:
    m = manager("on-failure", 2)
    assert m.should_restart(0, False, 0) is None
    assert m.should_restart(1, False, 0) is not None
    assert m.should_restart(1, False, 0) is not None
    assert m.should_restart(1, False, 0) is None
    assert manager("on-failure", 0, count=100).should_restart(3, False, 0) is not None


def test_unless_stopped_is_not_restarted_after_a_manual_stop_always_is() -> None:
    assert manager("unless-stopped").should_restart(0, True, 0) is None
    assert manager("unless-stopped").should_restart(0, False, 0) is not None
    assert manager("always").should_restart(0, True, 0) is not None
    assert manager("no").should_restart(1, False, 0) is None


def test_a_cancelled_manager_restarts_nothing() -> None:
    m = manager("always")
    m.cancel()
    assert m.should_restart(1, False, 0) is None


@pytest.mark.parametrize(("policy", "auto_remove", "message"), [
    ({"Name": "on-failure", "MaximumRetryCount": -1}, False,
     "maximum retry count cannot be negative"),
    ({"Name": "always", "MaximumRetryCount": 3}, False,
     "maximum retry count cannot be used with restart policy 'always'"),
    ({"Name": "sometimes"}, False, "invalid restart policy 'sometimes'"),
    ({"Name": "always"}, True, "can't create 'AutoRemove' container with restart policy"),
])
def test_bad_policies_are_refused_with_dockerds_words(policy: dict, auto_remove: bool,
                                                      message: str) -> None:
    with pytest.raises(InvalidParameter) as e:
        validate({"RestartPolicy": policy, "AutoRemove": auto_remove})
    assert str(e.value) == message


def test_good_policies_pass() -> None:
    for name in ("", "no", "always", "unless-stopped", "on-failure"):
        validate({"RestartPolicy": {"Name": name}, "AutoRemove": name in ("", "no")})
