"""shared/network's pure parts: names, IPAM, port specs, DNS messages."""

from __future__ import annotations

import socket
import struct

import pytest

from shared.errors import EngineError, InvalidParameter
from shared.network import dns, ipam
from shared.network.names import Names
from shared.network.portmap import Binding, parse_bindings


def test_names_fit_the_kernels_limit_and_are_ours() -> None:
    names = Names("wt1a2b")
    cid, nid = "a" * 64, "b" * 64
    for name in (names.default_bridge, names.user_bridge(nid), names.veth(cid, nid)):
        assert len(name) <= 15 and names.is_ours(name)
    assert not names.is_ours("eth0") and not names.is_ours("wt1a2")
    assert Names().chain == "WHALEBONES" and Names().default_bridge == "wb0"
    assert names.postrouting_chain == "WB-WT1A2B-POSTROUTING"
    with pytest.raises(ValueError):
        Names("eth")  # must not be able to name a host interface family


def test_ipam_lowest_free_gateway_skipped_and_reused() -> None:
    taken: dict[str, str] = {}
    gw = ipam.gateway_of("10.9.0.0/24")
    assert gw == "10.9.0.1"
    a = ipam.allocate("10.9.0.0/24", gw, taken, "c1")
    b = ipam.allocate("10.9.0.0/24", gw, taken, "c2")
    assert (a, b) == ("10.9.0.2", "10.9.0.3")
    assert ipam.release_owner(taken, "c1") == ["10.9.0.2"]
    assert ipam.allocate("10.9.0.0/24", gw, taken, "c3") == "10.9.0.2"
    with pytest.raises(EngineError):
        ipam.allocate("10.9.0.0/24", gw, taken, "c4", wanted="10.9.0.3")


def test_ipam_exhaustion_and_subnet_choice() -> None:
    taken: dict[str, str] = {}
    for i in range(13):  # a /28: 14 hosts, one the gateway
        ipam.allocate("10.9.0.0/28", "10.9.0.1", taken, f"c{i}")
    with pytest.raises(ipam.PoolExhausted):
        ipam.allocate("10.9.0.0/28", "10.9.0.1", taken, "one-more")
    assert ipam.pick_subnet(["10.0.0.0/24", "10.1.0.0/24"], ["10.0.0.0/16"]) == "10.1.0.0/24"
    with pytest.raises(ipam.PoolExhausted):
        ipam.pick_subnet(["10.0.0.0/24"], ["0.0.0.0/0"])


def test_port_bindings_as_the_docker_cli_sends_them() -> None:
    got = parse_bindings({"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                          "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}]})
    assert got == [Binding("tcp", 80, "", 8080), Binding("udp", 53, "127.0.0.1", 0)]
    with pytest.raises(InvalidParameter):
        parse_bindings({"80/sctp": [{}]})
    with pytest.raises(InvalidParameter):
        parse_bindings({"80/tcp": [{"HostPort": "http"}]})


def query(name: str, qtype: int = dns.TYPE_A) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + labels + b"\0" + \
        struct.pack("!HH", qtype, dns.CLASS_IN)


def test_dns_question_and_answer() -> None:
    q = query("web.example")
    name, qtype, qclass, end = dns.parse_question(q)
    assert (name, qtype, qclass, end) == ("web.example", 1, 1, len(q))
    reply = dns.answer(q, ["10.1.2.3"], end)
    ident, flags, qd, an, _, _ = struct.unpack("!HHHHHH", reply[:12])
    assert (ident, flags & 0x8000, qd, an) == (0x1234, 0x8000, 1, 1)
    assert reply.endswith(socket.inet_aton("10.1.2.3"))
    assert struct.unpack("!H", dns.failure(q, 2, end)[2:4])[0] & 0xF == 2
