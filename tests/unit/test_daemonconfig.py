"""daemon.json read as dockerd reads it (pure: parsing and merging; the daemon's use
of it runs in tests/stages/test_daemon_json.py)."""

from __future__ import annotations

import json

import pytest

from shared.daemon import daemonconfig
from shared.daemon.daemonconfig import ConfigError, parse
from shared.images.registry import client


def test_unknown_keys_are_refused_with_dockerds_words() -> None:
    with pytest.raises(ConfigError, match="^the following directives don't match any "
                       "configuration option: bogus, live-restor$"):
        parse(json.dumps({"live-restor": True, "bogus": 1, "debug": True}))


def test_a_dockerd_key_this_daemon_does_not_apply_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="^default-address-pools: not supported"):
        parse(json.dumps({"default-address-pools": []}))


def test_a_setting_both_flag_and_file_is_refused() -> None:
    config = parse('{"live-restore": true}')
    with pytest.raises(ConfigError, match="specified both as a flag and in the "
                       "configuration file: live-restore: \\(from flag: true, from file: "
                       "true\\)"):
        daemonconfig.check_flags(config, {"live-restore": True, "debug": False})


def test_the_missing_default_file_is_no_settings_a_missing_named_one_an_error(
        tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert daemonconfig.read(str(tmp_path / "none.json"), required=False).keys == set()
    with pytest.raises(ConfigError, match="no such file"):
        daemonconfig.read(str(tmp_path / "none.json"), required=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"log-driver": "syslog"}, "only json-file, local, none"),
    ({"log-driver": "none", "log-opts": {"max-size": "1m"}}, "invalid logging opts"),
    ({"log-opts": {"max-size": "lots"}}, "log-opts"),
    ({"log-opts": {"colour": "blue"}}, "unknown log opt 'colour'"),
    ({"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 20, "Hard": 10}}},
     "default-ulimits"),
    ({"labels": ["nokey"]}, "label must be in format key=value"),
    ({"registry-mirrors": ["ftp://mirror"]}, "invalid mirror"),
    ({"insecure-registries": ["http://reg:5000"]}, "should not contain '://'"),
    ({"debug": "yes"}, "debug must be true or false"),
])
def test_bad_values_are_refused(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(json.dumps(data))


def test_log_opts_fill_in_under_the_containers_own() -> None:
    config = parse('{"log-opts": {"max-size": "1m", "max-file": "2"}}')
    merged = daemonconfig.with_log_defaults(
        {"LogConfig": {"Type": "", "Config": {"max-size": "5m"}}}, config)
    assert merged["LogConfig"] == {"Type": "json-file",
                                   "Config": {"max-size": "5m", "max-file": "2"}}


def test_log_driver_local_or_none_is_the_default_driver() -> None:
    config = parse('{"log-driver": "local", "log-opts": {"max-file": "3"}}')
    merged = daemonconfig.with_log_defaults({}, config)
    assert merged["LogConfig"] == {"Type": "local", "Config": {"max-file": "3"}}
    # the container's own driver: the daemon's options are not its own
    merged = daemonconfig.with_log_defaults({"LogConfig": {"Type": "none"}}, config)
    assert merged["LogConfig"] == {"Type": "none", "Config": {}}


def test_default_ulimits_add_only_the_names_the_container_does_not_set() -> None:
    config = parse(json.dumps({"default-ulimits": {
        "nofile": {"Name": "nofile", "Soft": 100, "Hard": 200},
        "nproc": {"Name": "nproc", "Soft": 50, "Hard": 60}}}))
    own = [{"Name": "nofile", "Soft": 10, "Hard": 20}]
    assert daemonconfig.with_default_ulimits({"Ulimits": own}, config) == [
        *own, {"Name": "nproc", "Soft": 50, "Hard": 60}]


def test_insecure_registries_by_name_and_cidr() -> None:
    try:
        client.configure([], ["10.0.0.0/8", "myreg:5000"])
        assert client.is_insecure("10.1.2.3:5000")
        assert client.is_insecure("myreg:5000")
        assert not client.is_insecure("other:5000")
        # HTTPS first, plain HTTP only as the fallback of an insecure one (dockerd's order)
        assert client.endpoints("myreg:5000") == ["https://myreg:5000", "http://myreg:5000"]
        assert client.endpoints("other:5000") == ["https://other:5000"]
        assert client.endpoints("localhost:5000") == ["https://localhost:5000",
                                                      "http://localhost:5000"]
    finally:
        client.configure([], [])
    assert not client.is_insecure("myreg:5000")
