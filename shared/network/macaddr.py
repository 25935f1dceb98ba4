"""`--mac-address`: the hardware address of the container's end of its veth.

Without it a container's interface gets Docker's 02:42:<IPv4 address> (links.mac_for).
With it, the address the user chose: useful for software licensed to a MAC, or a DHCP
server that hands out leases by MAC on a macvlan. The kernel takes any unicast
6-byte address for a veth end; the veth is made with it (links.plug, through
pyroute2's IFLA_ADDRESS) in stages 2-4, and LXC makes it from lxc.net.N.hwaddr in
stage 1.

Where the address goes: since API 1.44 the docker CLI sends it in the endpoint
settings of the network it names (NetworkingConfig.EndpointsConfig[net].MacAddress);
older clients (and docker-py) send the container-wide Config.MacAddress, which
dockerd moves to the endpoint of the container's network mode (moby's
handleMACAddressBC). A network mode without an endpoint of the container's own
(host, none, container:NAME) has no interface to give it to: refused.
"""

from __future__ import annotations

import re

from shared.errors import InvalidParameter

_HEX2 = "[0-9A-Fa-f]{2}"
_HEX4 = "[0-9A-Fa-f]{4}"


def parse_mac(text: str) -> bytes:
    """Go's net.ParseMAC: 6, 8 or 20 bytes as aa:bb:..., aa-bb-... or aabb.ccdd...;
    ValueError otherwise."""
    for count in (6, 8, 20):
        for sep in (":", "-"):
            if re.fullmatch(f"{_HEX2}(?:{re.escape(sep)}{_HEX2}){{{count - 1}}}", text):
                return bytes.fromhex(text.replace(sep, ""))
        if re.fullmatch(rf"{_HEX4}(?:\.{_HEX4}){{{count // 2 - 1}}}", text):
            return bytes.fromhex(text.replace(".", ""))
    raise ValueError(f"invalid MAC address {text}")


def ethernet_mac(text: str) -> str:
    """A MAC for a veth, canonical ("02:42:ac:11:00:99"); InvalidParameter, in
    dockerd's words, for what Go's parser refuses, and for the 8- and 20-byte forms
    it takes but no Ethernet interface can have (dockerd fails at start for them)."""
    try:
        raw = parse_mac(text)
    except ValueError:
        raise InvalidParameter(f"invalid MAC address {text}") from None
    if len(raw) != 6:
        raise InvalidParameter(f"invalid MAC address {text}: an Ethernet address has "
                               "6 bytes")
    if raw[0] & 1:
        # the kernel's is_valid_ether_addr: a multicast address cannot name one interface
        raise InvalidParameter(f"invalid MAC address {text}: a multicast address")
    return ":".join(f"{b:02x}" for b in raw)


def place(body: dict, mode: str, networks: dict[str, dict]) -> None:
    """At create: check every MAC of the request and put the container-wide one on the
    endpoint of the network mode's network (`networks`, keyed by network, as the
    record keeps them), as dockerd does."""
    wide = body.get("MacAddress") or ""
    endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    asked = [s.get("MacAddress") for s in endpoints.values() if isinstance(s, dict)]
    if not networks:  # host, none, container:NAME: no interface of its own
        if wide or any(asked):
            raise InvalidParameter("conflicting options: mac-address and the network mode")
        return
    for mac in asked:
        if mac:
            ethernet_mac(mac)
    if not wide:
        return
    wide = ethernet_mac(wide)
    for name, settings in networks.items():
        own = settings.get("MacAddress") or ""
        if own and ethernet_mac(own) != wide:
            raise InvalidParameter("the container-wide MAC address must match the "
                                   "endpoint-specific MAC address for the main network, "
                                   "or be left empty")
        networks[name] = {**settings, "MacAddress": wide}
