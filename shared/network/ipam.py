"""IP address management: which addresses of a network's subnet are taken, by whom.

As Docker's default IPAM: the gateway is the subnet's first host address, containers
get the lowest free one (so an address freed by `rm` is the next one handed out), and
the allocations are persisted with the network, so a restarted daemon never gives an
address that a surviving container still holds to another.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from shared.errors import EngineError

# Where subnets for networks come from when none is asked for: the default bridge
# takes a /16, user-defined networks a /24 each. Any candidate overlapping a route the
# host already has (its own LAN, another engine's bridge) is skipped, as Docker does.
DEFAULT_BRIDGE_POOLS = [f"172.{n}.0.0/16" for n in range(30, 15, -1)]
USER_POOLS = [f"10.{a}.{b}.0/24" for a in (213, 214, 215) for b in range(256)]


class PoolExhausted(EngineError):
    status = 500


def gateway_of(subnet: str) -> str:
    return str(next(ipaddress.ip_network(subnet).hosts()))


def pick_subnet(candidates: Iterable[str], in_use: Iterable[str]) -> str:
    """The first candidate that overlaps none of the subnets in use."""
    used = [ipaddress.ip_network(s, strict=False) for s in in_use]
    for candidate in candidates:
        net = ipaddress.ip_network(candidate)
        if not any(net.overlaps(u) for u in used):
            return candidate
    raise PoolExhausted("could not find an available, non-overlapping IPv4 address pool "
                        "among the defaults to assign to the network")


def allocate(subnet: str, gateway: str, taken: dict[str, str], owner: str,
             wanted: str | None = None) -> str:
    """Take the lowest free address (or `wanted`) for `owner`; records it in `taken`."""
    net = ipaddress.ip_network(subnet)
    if wanted:
        if ipaddress.ip_address(wanted) not in net:
            raise EngineError(f"Invalid address {wanted}: It does not belong to any of this "
                              "network's subnets")
        if wanted in taken or wanted == gateway:
            raise EngineError(f"Address already in use: {wanted}")
        taken[wanted] = owner
        return wanted
    for address in net.hosts():
        text = str(address)
        if text != gateway and text not in taken:
            taken[text] = owner
            return text
    raise PoolExhausted(f"no available IPv4 addresses on network {subnet}")


def release_owner(taken: dict[str, str], owner: str) -> list[str]:
    """Free every address `owner` holds; returns them."""
    freed = [a for a, o in taken.items() if o == owner]
    for a in freed:
        del taken[a]
    return freed
