"""Every field of a create request is either applied or refused (pure: no daemon).

The lists in shared/daemon/createfields.py must name exactly the fields that the API's
decoder (shared/daemon/gotypes.py) knows: a field added to one and not the other fails
here, so none can be accepted and ignored by oversight.
"""

from __future__ import annotations

import re

import pytest

from shared.daemon import createfields, gotypes
from shared.daemon.containerconfig import merge
from shared.daemon.createfields import Refused
from shared.errors import InvalidParameter

IMAGE = {"Cmd": ["sh"], "Env": ["PATH=/bin"]}


def test_every_config_field_is_applied_or_refused() -> None:
    assert set(createfields.CONFIG) == set(gotypes.CREATE_REQUEST)


def test_every_host_config_field_is_applied_or_refused() -> None:
    assert set(createfields.HOST_CONFIG) == set(gotypes.HOST_CONFIG)


def test_every_endpoint_setting_is_applied_or_refused() -> None:
    assert set(createfields.ENDPOINT) == set(gotypes.ENDPOINT_SETTINGS)
    assert set(createfields.IPAM_CONFIG) == set(gotypes.ENDPOINT_SETTINGS["IPAMConfig"])


@pytest.mark.parametrize(("settings", "option"), [
    ({"IPAMConfig": {"IPv6Address": "fd00::9"}}, "--ip6"),
    ({"Links": ["web:w"]}, "--link"),
])
def test_a_refused_endpoint_setting_is_refused_by_its_option(settings: dict,
                                                              option: str) -> None:
    body = {"Cmd": ["true"], "NetworkingConfig": {"EndpointsConfig": {"bridge": settings}}}
    with pytest.raises(InvalidParameter, match=f"^{option} is not supported"):
        merge(body, "busybox", IMAGE, None)


# A value that asks for something, of the type gotypes decodes, for each field.
def set_value(kind: object) -> object:
    if isinstance(kind, str):
        if kind.startswith(("int", "uint")):
            return 300
        return {"bool": True, "string": "x"}.get(kind, ["x"])  # a strslice: ["x"]
    if isinstance(kind, dict):
        return {key: set_value(sub) for key, sub in kind.items()}
    name = type(kind).__name__
    if name == "ListOf":
        return [set_value(kind.item)]  # type: ignore[attr-defined]
    if name == "MapOf":
        return {"k": set_value(kind.value)}  # type: ignore[attr-defined]
    return ["x"]


REFUSED_HOST = [k for k, v in createfields.HOST_CONFIG.items() if isinstance(v, Refused)]
REFUSED_CONFIG = [k for k, v in createfields.CONFIG.items() if isinstance(v, Refused)]


@pytest.mark.parametrize("key", REFUSED_HOST)
def test_a_refused_host_config_field_is_refused_by_its_option(key: str) -> None:
    value = set_value(gotypes.HOST_CONFIG[key])
    body = {"Cmd": ["true"], "HostConfig": {key: value}}
    option = createfields.HOST_CONFIG[key]
    assert isinstance(option, Refused)
    with pytest.raises(InvalidParameter, match=f"^{re.escape(option.message())}$"):
        merge(body, "busybox", IMAGE, None)


@pytest.mark.parametrize("key", REFUSED_CONFIG)
def test_a_refused_config_field_is_refused_by_its_option(key: str) -> None:
    value = set_value(gotypes.CREATE_REQUEST[key])
    option = createfields.CONFIG[key]
    assert isinstance(option, Refused)
    with pytest.raises(InvalidParameter, match=f"^{re.escape(option.option)}"):
        merge({"Cmd": ["true"], key: value}, "busybox", IMAGE, None)


@pytest.mark.parametrize(("key", "unset"), [
    ("MemorySwappiness", -1), ("ConsoleSize", [0, 0]), ("Binds", []),
    ("RestartPolicy", {"Name": "no", "MaximumRetryCount": 0}), ("Devices", None),
    ("Privileged", False), ("StorageOpt", {}),
])
def test_a_field_at_its_zero_value_is_not_a_request(key: str, unset: object) -> None:
    merge({"Cmd": ["true"], "HostConfig": {key: unset}}, "busybox", IMAGE, None)


def test_healthcheck_none_is_kept_and_turns_off_the_images() -> None:
    image = {**IMAGE, "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 10**9}}
    merged = merge({"Cmd": ["true"], "Healthcheck": {"Test": ["NONE"]}}, "busybox", image, None)
    assert merged.config["Healthcheck"] == {"Test": ["NONE"], "Interval": 10**9}


@pytest.mark.parametrize(("host_config", "message"), [
    ({"Isolation": "hyperv"}, "invalid isolation 'hyperv' on linux"),
    ({"UsernsMode": "private"}, "--userns private is not supported by this engine"),
    ({"Runtime": "kata"}, "unknown or invalid runtime name: kata"),
    ({"Annotations": {"": "x"}}, "the empty string is not permitted"),
    ({"Annotations": {"org.whalebones.network.interfaces": "[]"}}, "the engine's own"),
    ({"ExtraHosts": ["db"]}, "bad format for add-host"),
    ({"ExtraHosts": ["db\nevil:1.2.3.4"]}, "bad format for add-host"),
    ({"ExtraHosts": ["db:1.2.3"]}, "invalid IP address in add-host"),
    ({"Dns": ["resolver.example"]}, "is not an ip address"),
    ({"DnsSearch": ["example.org\nnameserver 6.6.6.6"]}, "invalid --dns-search value"),
    ({"DnsOptions": ["ndots:1 # x"]}, "invalid --dns-option value"),
])
def test_what_takes_one_value_here_is_refused_otherwise(host_config: dict,
                                                         message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        merge({"Cmd": ["true"], "HostConfig": host_config}, "busybox", IMAGE, None,
              runtime="runc")


def test_this_engines_own_runtime_by_name_is_accepted() -> None:
    merge({"Cmd": ["true"], "HostConfig": {"Runtime": "runc", "Isolation": "default",
                                           "UsernsMode": "host"}},
          "busybox", IMAGE, None, runtime="runc")


def test_network_disabled_is_no_network() -> None:
    merged = merge({"Cmd": ["true"], "NetworkDisabled": True}, "busybox", IMAGE, None)
    assert merged.host_config["NetworkMode"] == "none" and merged.networks == {}
