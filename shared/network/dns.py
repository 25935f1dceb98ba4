"""A small DNS server per user-defined network: containers find each other by name.

Docker's embedded DNS listens on 127.0.0.11 inside each container (iptables rules in
the container's namespace redirect it to the daemon). Ours is simpler and needs no rule
in the container: it listens on the network's gateway address, port 53, in the host's
namespace (the bridge's address is reachable from every container on it), and the
container's /etc/resolv.conf names the gateway as its nameserver.

It answers A queries for the names of the network's containers (name, aliases, short
id, hostname) itself, and relays every other query to the host's resolvers: the
daemon is in the host's namespace, so even a loopback resolver (127.0.0.53) works.

The gateway address is the host's, so a container on *another* network could send
to it too (its packets to a host address are the host's INPUT, which the isolation
chains between bridges do not see) and read this network's names, or anyone who can
route to it could use it as a relay. It answers only its own subnet. And a container
that floods it with names to relay gets no thread per query: at most MAX_RELAYS wait
on the upstream resolvers at once, the rest are answered SERVFAIL at once (moby's
resolver has such a bound too).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import struct
import threading
from collections.abc import Callable

log = logging.getLogger("whalebones.network")

TYPE_A, CLASS_IN = 1, 1
TTL = 600  # as Docker's embedded DNS
MAX_RELAYS = 64  # queries relayed upstream at once, each waiting up to 3 s a server


def parse_question(packet: bytes) -> tuple[str, int, int, int]:
    """(name, qtype, qclass, offset after the question) of the first question."""
    labels, i = [], 12
    while True:
        length = packet[i]
        if length == 0:
            i += 1
            break
        if length & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(packet[i + 1:i + 1 + length].decode("ascii", "replace"))
        i += 1 + length
    qtype, qclass = struct.unpack("!HH", packet[i:i + 4])
    return ".".join(labels), qtype, qclass, i + 4


def answer(query: bytes, addresses: list[str], end: int) -> bytes:
    """A reply with one A record per address (none: the name exists, no such record)."""
    ident, flags = struct.unpack("!HH", query[:4])
    flags = 0x8000 | (flags & 0x0100) | 0x0080 | 0x0400  # QR, RD copied, RA, AA
    header = struct.pack("!HHHHHH", ident, flags, 1, len(addresses), 0, 0)
    records = b"".join(
        struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, TTL, 4) + socket.inet_aton(a)
        for a in addresses)
    return header + query[12:end] + records


def failure(query: bytes, rcode: int, end: int) -> bytes:
    ident, flags = struct.unpack("!HH", query[:4])
    flags = 0x8000 | (flags & 0x0100) | 0x0080 | rcode
    return struct.pack("!HHHHHH", ident, flags, 1, 0, 0, 0) + query[12:end]


def upstream_servers() -> list[str]:
    servers = []
    with contextlib.suppress(OSError), open("/etc/resolv.conf") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver" and ":" not in parts[1]:
                servers.append(parts[1])
    return servers


class Server:
    def __init__(self, address: str, subnet: str,
                 lookup: Callable[[str], list[str] | None], port: int = 53,
                 upstream: Callable[[str], list[str]] = lambda client: upstream_servers()
                 ) -> None:
        """lookup(name) -> the addresses of a container of the network, or None.
        subnet: the network's; a query from anywhere else is not answered.
        upstream(client address) -> the servers to relay that client's other queries
        to (a container's --dns, or the host's)."""
        self.lookup = lookup
        self.subnet = ipaddress.ip_network(subnet)
        self.upstream = upstream
        self._relays = threading.BoundedSemaphore(MAX_RELAYS)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self._closed = False
        threading.Thread(target=self._serve, name=f"dns-{address}", daemon=True).start()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def _serve(self) -> None:
        while not self._closed:
            try:
                query, client = self.sock.recvfrom(4096)
            except OSError:
                return
            if client is None:  # shut down by close()
                return
            if ipaddress.ip_address(client[0]) not in self.subnet:
                continue  # not one of this network's containers
            try:
                name, qtype, qclass, end = parse_question(query)
            except (ValueError, IndexError, struct.error):
                continue
            found = self.lookup(name.rstrip(".").lower())
            if found is not None and qclass == CLASS_IN:
                reply = answer(query, found if qtype == TYPE_A else [], end)
                with contextlib.suppress(OSError):
                    self.sock.sendto(reply, client)
            elif self._relays.acquire(blocking=False):
                threading.Thread(target=self._relay, args=(query, client, end),
                                 daemon=True).start()
            else:
                with contextlib.suppress(OSError):
                    self.sock.sendto(failure(query, 2, end), client)  # SERVFAIL

    def _relay(self, query: bytes, client: tuple[str, int], end: int) -> None:
        try:
            self._relay_upstream(query, client, end)
        finally:
            self._relays.release()

    def _relay_upstream(self, query: bytes, client: tuple[str, int], end: int) -> None:
        for server in self.upstream(client[0]):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
                up.settimeout(3)
                try:
                    up.sendto(query, (server, 53))
                    reply = up.recv(4096)
                except OSError:
                    continue
            with contextlib.suppress(OSError):
                self.sock.sendto(reply, client)
            return
        with contextlib.suppress(OSError):
            self.sock.sendto(failure(query, 2, end), client)  # SERVFAIL
