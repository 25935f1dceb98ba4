"""Unit tests (pure) of --mac-address: Go's MAC syntax and where dockerd puts the
container-wide address (shared/network/macaddr.py)."""

from __future__ import annotations

import pytest

from shared.errors import InvalidParameter
from shared.network.macaddr import ethernet_mac, parse_mac, place


@pytest.mark.parametrize(("text", "raw"), [
    ("02:42:ac:11:00:99", bytes.fromhex("0242ac110099")),
    ("02-42-AC-11-00-99", bytes.fromhex("0242ac110099")),
    ("0242.ac11.0099", bytes.fromhex("0242ac110099")),
    ("02:00:5e:10:00:00:00:01", bytes.fromhex("02005e1000000001")),  # EUI-64
])
def test_gos_parse_mac(text: str, raw: bytes) -> None:
    assert parse_mac(text) == raw


@pytest.mark.parametrize("text", ["zz", "02:42:ac:11:00", "02:42-ac:11:00:99",
                                  "02:42:ac:11:00:9", "0242ac110099", "02:42:ac:11:00:99:"])
def test_what_go_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_mac(text)


def test_a_veth_takes_six_unicast_bytes() -> None:
    assert ethernet_mac("02-42-AC-11-00-99") == "02:42:ac:11:00:99"
    with pytest.raises(InvalidParameter, match="^invalid MAC address zz$"):
        ethernet_mac("zz")
    with pytest.raises(InvalidParameter, match="6 bytes"):
        ethernet_mac("02:00:5e:10:00:00:00:01")
    with pytest.raises(InvalidParameter, match="multicast"):
        ethernet_mac("01:00:5e:00:00:01")


def test_the_container_wide_address_goes_to_the_modes_endpoint() -> None:
    networks: dict[str, dict] = {"bridge": {"Aliases": ["a"]}}
    place({"MacAddress": "02:42:AC:11:00:99"}, "bridge", networks)
    assert networks == {"bridge": {"Aliases": ["a"], "MacAddress": "02:42:ac:11:00:99"}}


def test_a_different_endpoint_address_is_refused_in_dockerds_words() -> None:
    networks = {"bridge": {"MacAddress": "02:42:ac:11:00:98"}}
    with pytest.raises(InvalidParameter, match="must match the endpoint-specific MAC"):
        place({"MacAddress": "02:42:ac:11:00:99"}, "bridge", networks)


@pytest.mark.parametrize("body", [
    {"MacAddress": "02:42:ac:11:00:99"},
    {"NetworkingConfig": {"EndpointsConfig": {"host": {"MacAddress": "02:42:ac:11:00:99"}}}},
])
def test_no_own_interface_no_mac(body: dict) -> None:
    with pytest.raises(InvalidParameter,
                       match="^conflicting options: mac-address and the network mode$"):
        place(body, "host", {})


def test_an_endpoints_invalid_address_is_refused() -> None:
    body = {"NetworkingConfig": {"EndpointsConfig": {"bridge": {"MacAddress": "nope"}}}}
    with pytest.raises(InvalidParameter, match="^invalid MAC address nope$"):
        place(body, "bridge", {"bridge": {"MacAddress": "nope"}})
