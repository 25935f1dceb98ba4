"""The embedded DNS server on real UDP sockets, on loopback only (no root).

It must answer only its own network's subnet, and a flood of names to relay must not
become a thread per query.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

from shared.network import dns
from tests.unit.test_network import query

ADDRESS = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((ADDRESS, 0))
        return s.getsockname()[1]


def ask(port: int, name: str, timeout: float = 1.0) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(query(name), (ADDRESS, port))
        try:
            return s.recv(4096)
        except TimeoutError:
            return None


def serve(subnet: str, upstream: list[str]) -> tuple[dns.Server, int]:
    port = free_port()
    names = {"web": ["10.5.0.2"]}
    return dns.Server(ADDRESS, subnet, names.get, port=port, upstream=lambda client: upstream), port


def test_its_own_subnet_is_answered() -> None:
    server, port = serve("127.0.0.0/8", [])
    try:
        reply = ask(port, "web")
        assert reply is not None and reply.endswith(socket.inet_aton("10.5.0.2"))
    finally:
        server.close()


def test_another_subnet_gets_no_answer() -> None:
    """A container of another network (here: loopback, outside 10.99/16) learns nothing."""
    server, port = serve("10.99.0.0/16", [])
    try:
        assert ask(port, "web") is None
    finally:
        server.close()


def test_a_flood_of_names_to_relay_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relays wait on a resolver that never answers; past MAX_RELAYS the server answers
    SERVFAIL at once instead of starting a thread per query."""
    monkeypatch.setattr(dns, "MAX_RELAYS", 4)
    upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    upstream.bind((ADDRESS, 0))
    server, port = serve("127.0.0.0/8", [ADDRESS])
    # The relay sends to port 53 of each upstream server: point it at the silent one.
    real_sendto = socket.socket.sendto
    blackhole = upstream.getsockname()

    def to_silent(self: socket.socket, data: bytes, address: tuple[str, int]) -> int:
        return real_sendto(self, data, blackhole if address[1] == 53 else address)

    monkeypatch.setattr(socket.socket, "sendto", to_silent)
    threads_before = threading.active_count()
    try:
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(2)
        for i in range(50):
            client.sendto(query(f"name{i}.example"), (ADDRESS, port))
        failures = 0
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and failures < 46:
            try:
                reply = client.recv(4096)
            except TimeoutError:
                break
            failures += struct.unpack("!H", reply[2:4])[0] & 0xF == 2
        assert failures == 46  # 50 asked, 4 waiting upstream, the rest refused at once
        assert threading.active_count() - threads_before <= 4
        client.close()
    finally:
        server.close()
        upstream.close()


def test_a_name_it_does_not_know_goes_to_the_askers_own_servers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`--dns` on a user-defined network: the network's DNS relays that container's
    other names to the servers it was given (a resolver on loopback stands in)."""
    resolver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    resolver.bind((ADDRESS, 0))
    asked_for: list[str] = []

    def upstream(client: str) -> list[str]:
        asked_for.append(client)
        return [ADDRESS]

    port = free_port()
    server = dns.Server(ADDRESS, "127.0.0.0/8", {}.get, port=port, upstream=upstream)
    real_sendto = socket.socket.sendto

    def to_resolver(self: socket.socket, data: bytes, address: tuple[str, int]) -> int:
        return real_sendto(self, data, resolver.getsockname() if address[1] == 53 else address)

    monkeypatch.setattr(socket.socket, "sendto", to_resolver)

    def answer_once() -> None:
        data, peer = resolver.recvfrom(4096)
        real_sendto(resolver, data[:2] + b"\x81\x80" + data[4:], peer)  # "the answer"

    threading.Thread(target=answer_once, daemon=True).start()
    try:
        reply = ask(port, "example.org", timeout=3)
        assert reply is not None and reply[2:4] == b"\x81\x80"
        assert asked_for == [ADDRESS]
    finally:
        server.close()
        resolver.close()
