"""The names of everything networking makes on the host.

Interfaces and iptables chains are host-wide: two daemons (tests run several side by
side) must not share them. Each daemon takes a short prefix; every interface it makes
starts with it, every chain is named from it, and its clean-up touches nothing else.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

IFNAMSIZ = 15  # the kernel's limit on an interface name (16 bytes with the NUL)
VALID_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,5}\Z")
# Families of names the host's own interfaces use: a prefix of ours must never be able
# to name one of them (a prefix "eth" would make our default bridge "eth0").
HOST_FAMILIES = ("eth", "en", "wl", "ww", "lo", "br", "docker", "veth", "vir", "tap", "tun",
                 "bond", "vlan", "ifb", "dummy", "lxc", "cni", "flannel", "cali", "ib", "sit")


@dataclass(frozen=True)
class Names:
    prefix: str = "wb"

    def __post_init__(self) -> None:
        if not VALID_PREFIX.match(self.prefix) or self.prefix.startswith(HOST_FAMILIES):
            raise ValueError(f"network prefix {self.prefix!r}: 2-6 of [a-z0-9], a letter "
                             "first, not a family of host interfaces (eth, br, veth...)")

    @property
    def default_bridge(self) -> str:
        return f"{self.prefix}0"  # wb0, as docker0

    def user_bridge(self, network_id: str) -> str:
        """A user-defined network's bridge: wb-<id>, as Docker's br-<id>."""
        return f"{self.prefix}-" + network_id[: IFNAMSIZ - len(self.prefix) - 1]

    def veth(self, container_id: str, network_id: str) -> str:
        """The host end of a container's veth on one network."""
        digest = hashlib.sha256((container_id + network_id).encode()).hexdigest()
        return f"{self.prefix}v" + digest[: IFNAMSIZ - len(self.prefix) - 1]

    def is_ours(self, ifname: str) -> bool:
        return ifname == self.default_bridge or ifname.startswith(
            (f"{self.prefix}-", f"{self.prefix}v"))

    @property
    def chain(self) -> str:
        """Our nat chain (DNAT of published ports); the others are named after it."""
        return "WHALEBONES" if self.prefix == "wb" else f"WB-{self.prefix.upper()}"

    @property
    def postrouting_chain(self) -> str:
        return f"{self.chain}-POSTROUTING"

    @property
    def forward_chain(self) -> str:
        return f"{self.chain}-FORWARD"

    @property
    def isolation_chains(self) -> tuple[str, str]:
        """Docker's DOCKER-ISOLATION-STAGE-1 and -2: networks cannot reach each other."""
        return f"{self.chain}-ISOLATION-1", f"{self.chain}-ISOLATION-2"
