"""Bridges and veth pairs, through netlink (pyroute2), never by running `ip`.

A *bridge* is the kernel's virtual Ethernet switch: every interface enslaved to it is a
port, frames are forwarded between ports by MAC address, and giving the bridge itself
an address makes the host one more station on that segment: the containers' gateway.

A *veth* pair is a virtual cable: what goes in one end comes out of the other. One end
stays on the host as a port of the bridge; the other is made directly inside the
container's namespace (netlink's IFLA_NET_NS_FD at creation) and is its eth0. Deleting
either end deletes both, and a namespace that dies takes its end, and so the pair, with
it.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from shared.network import netns
from shared.network.names import Names

_lock = threading.Lock()
_host: IPRoute | None = None


def host() -> IPRoute:
    """One netlink socket in the host's namespace, opened on first use (by a thread
    that is in the host's namespace: the caller's), used under `_lock`."""
    global _host
    if _host is None:
        _host = IPRoute()
        _host.get_links()  # pyroute2 opens its socket lazily: open it here, now
    return _host


def _kind(link: Any) -> str | None:
    info = link.get_attr("IFLA_LINKINFO")
    return info.get_attr("IFLA_INFO_KIND") if info is not None else None


def host_routes() -> list[str]:
    """The destination subnets of the host's IPv4 routes (what a new subnet must avoid)."""
    with _lock:
        routes = host().get_routes(family=2)
    found = []
    for r in routes:
        dst = r.get_attr("RTA_DST")
        if dst and r["dst_len"]:
            found.append(f"{dst}/{r['dst_len']}")
    return found


def ensure_bridge(names: Names, name: str, gateway: str, prefixlen: int) -> None:
    """The bridge `name` up with `gateway/prefixlen` as its (only) address."""
    if not names.is_ours(name):
        raise ValueError(f"{name} is not a bridge of ours")
    with _lock:
        ipr = host()
        found = ipr.link_lookup(ifname=name)
        if found:
            link = ipr.get_links(found[0])[0]
            if _kind(link) != "bridge":
                raise OSError(f"{name} exists and is not a bridge")
            index = found[0]
        else:
            ipr.link("add", ifname=name, kind="bridge")
            index = ipr.link_lookup(ifname=name)[0]
        have = {(a.get_attr("IFA_ADDRESS"), a["prefixlen"])
                for a in ipr.get_addr(index=index, family=2)}
        for address, plen in have - {(gateway, prefixlen)}:
            ipr.addr("del", index=index, address=address, prefixlen=plen)
        if (gateway, prefixlen) not in have:
            ipr.addr("add", index=index, address=gateway, prefixlen=prefixlen)
        ipr.link("set", index=index, state="up")


def delete_link(names: Names, name: str) -> None:
    """Delete an interface of ours (a bridge or a veth's host end); gone already is fine."""
    if not names.is_ours(name):
        raise ValueError(f"{name} is not an interface of ours")
    with _lock:
        try:
            ipr = host()
            found = ipr.link_lookup(ifname=name)
            if found:
                ipr.link("del", index=found[0])
        except NetlinkError as e:
            if e.code != 19:  # ENODEV: it went with its namespace meanwhile
                raise


def mac_for(address: str) -> str:
    """Docker's scheme: 02:42 and the four bytes of the IPv4 address (locally
    administered, unique on the network because the address is)."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.ip_address(address).packed)


def plug(names: Names, netns_path: str, host_end: str, bridge: str, ifname: str,
         address: str, prefixlen: int, gateway: str, default_route: bool,
         mac: str = "") -> str:
    """A veth from `bridge` into the namespace at `netns_path`, named `ifname` there,
    with `address` and, if asked, the default route via `gateway`; its MAC is `mac`
    (--mac-address), else Docker's from the address. Returns the MAC."""
    if not names.is_ours(host_end) or not names.is_ours(bridge):
        raise ValueError(f"{host_end} on {bridge}: not ours")
    mac = mac or mac_for(address)
    fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        with _lock:
            ipr = host()
            master = ipr.link_lookup(ifname=bridge)
            if not master:
                raise OSError(f"bridge {bridge} does not exist")
            ipr.link("add", ifname=host_end, kind="veth",
                     peer={"ifname": ifname, "net_ns_fd": fd, "address": mac})
            index = ipr.link_lookup(ifname=host_end)[0]
            ipr.link("set", index=index, master=master[0], state="up")
    finally:
        os.close(fd)

    def inside() -> None:
        # This thread is in the container's namespace (netns.run_in checked): the
        # socket opened here is bound to it for good.
        with IPRoute() as ipr:
            lo = ipr.link_lookup(ifname="lo")
            eth = ipr.link_lookup(ifname=ifname)
            if not lo or not eth:
                raise OSError(f"{ifname} is not in the container's namespace")
            ipr.link("set", index=lo[0], state="up")  # a joined namespace's lo is down
            ipr.addr("add", index=eth[0], address=address, prefixlen=prefixlen)
            ipr.link("set", index=eth[0], state="up")
            if default_route:
                ipr.route("add", dst="0.0.0.0/0", gateway=gateway)

    try:
        netns.run_in(netns_path, inside)
    except BaseException:
        delete_link(names, host_end)
        raise
    return mac
