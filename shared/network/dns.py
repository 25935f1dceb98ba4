"""A small DNS server per user-defined network: containers find each other by name.

Docker's embedded DNS listens on 127.0.0.11 inside each container (iptables rules in
the container's namespace redirect it to the daemon). Ours is simpler and needs no rule
in the container: it listens on the network's gateway address, port 53, in the host's
namespace (the bridge's address is reachable from every container on it), and the
container's /etc/resolv.conf names the gateway as its nameserver.

It answers A queries for the names of the network's containers (name, aliases, short
id, hostname) itself, and relays every other query to the host's resolvers: the
daemon is in the host's namespace, so even a loopback resolver (127.0.0.53) works.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from collections.abc import Callable

log = logging.getLogger("whalebones.network")

TYPE_A, CLASS_IN = 1, 1
TTL = 600  # as Docker's embedded DNS


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
    def __init__(self, address: str, lookup: Callable[[str], list[str] | None]) -> None:
        """lookup(name) -> the addresses of a container of the network, or None."""
        self.lookup = lookup
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 53))
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
            try:
                name, qtype, qclass, end = parse_question(query)
            except (ValueError, IndexError, struct.error):
                continue
            found = self.lookup(name.rstrip(".").lower())
            if found is not None and qclass == CLASS_IN:
                reply = answer(query, found if qtype == TYPE_A else [], end)
                with contextlib.suppress(OSError):
                    self.sock.sendto(reply, client)
            else:
                threading.Thread(target=self._relay, args=(query, client, end),
                                 daemon=True).start()

    def _relay(self, query: bytes, client: tuple[str, int], end: int) -> None:
        for server in upstream_servers():
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
