"""Networks and containers' sandboxes: everything the engine asks of networking.

A container's *sandbox* (Docker's word) is its network namespace plus one endpoint per
network it is on (a veth, an address) and its published ports. The engine calls
`attach` before it hands the spec to the executor and `detach` once the container has
stopped; a sandbox's record is written under <exec root>/netns/<id>.json before
anything of it is made, so a daemon that crashed half way knows what to clean up.

Who makes the links. In stages 2 to 4 the daemon makes all of it itself (the namespace,
each veth, its address and route) and the executor only joins the namespace by path.
Stage 1's executor is LXC, which makes a container's network from its own config
(`lxc.net.N.*`), as Docker 0.1's template asked it to: with `executor_makes_links` the
manager still plans every endpoint (names, address from IPAM, MAC) and publishes the
ports, but leaves the namespace and the veths to the executor, which gets the plan in
the spec (`Endpoint.plan`); once the container's init is in that namespace the engine
calls `pin_namespace`, and from then on the sandbox is what it is in every other era.
"""

from __future__ import annotations

import builtins  # builtins.list: below NetworkManager.list, `list` is that method
import contextlib
import ipaddress
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field

from shared.errors import Conflict, EngineError, InvalidParameter, NotFound
from shared.network import dns, ipam, links, macaddr, netns
from shared.network.names import Names
from shared.network.nat import Firewall
from shared.network.portmap import Binding, Proxy, parse_bindings
from shared.network.store import Network, NetworkStore

log = logging.getLogger("whalebones.network")
IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"


class Forbidden(EngineError):
    status = 403


@dataclass
class Endpoint:
    network_id: str
    network: str
    host_end: str
    ifname: str
    address: str
    prefixlen: int
    gateway: str
    mac: str = ""
    aliases: list[str] = field(default_factory=list)
    endpoint_id: str = field(default_factory=lambda: secrets.token_hex(32))
    bridge: str = ""  # the network's bridge, the host end's master

    def plan(self) -> dict:
        """This endpoint as an executor that makes its own links needs it: a veth
        from `bridge`, `host_end` on the host and `ifname` inside, with this MAC and
        address; the default route via `gateway` on eth0 only, as `links.plug`."""
        return {"bridge": self.bridge, "host_end": self.host_end, "ifname": self.ifname,
                "mac": self.mac, "address": self.address, "prefixlen": self.prefixlen,
                "gateway": self.gateway, "default_route": self.ifname == "eth0"}


@dataclass
class Port:
    proto: str
    port: int
    host_ip: str
    host_port: int
    address: str
    bridge: str


@dataclass
class Sandbox:
    cid: str
    path: str
    name: str
    hostname: str
    endpoints: list[Endpoint] = field(default_factory=list)
    ports: list[Port] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)  # --dns: where its network's DNS relays

    @classmethod
    def from_json(cls, data: dict) -> Sandbox:
        data = dict(data)
        data["endpoints"] = [Endpoint(**e) for e in data.get("endpoints", [])]
        data["ports"] = [Port(**p) for p in data.get("ports", [])]
        return cls(**data)


class NetworkManager:
    def __init__(self, root: str, exec_root: str, names: Names | None = None,
                 executor_makes_links: bool = False) -> None:
        self.names = names or Names()
        # True for an executor that makes the namespace and veths from the plan (see
        # the module's docstring); the daemon still makes those of `network connect`.
        self.executor_makes_links = executor_makes_links
        self.store = NetworkStore(os.path.join(root, "networks"))
        self.dir = os.path.join(exec_root, "netns")
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.firewall = Firewall(self.names)
        self._lock = threading.RLock()
        self._sandboxes: dict[str, Sandbox] = {}
        self._proxies: dict[str, list[Proxy]] = {}
        self._dns: dict[str, dns.Server] = {}
        for entry in os.listdir(self.dir):
            if entry.endswith(".json"):
                with contextlib.suppress(OSError, ValueError, TypeError):
                    with open(os.path.join(self.dir, entry)) as f:
                        sb = Sandbox.from_json(json.load(f))
                    self._sandboxes[sb.cid] = sb
        self._predefined()
        self._ip_forward()
        self.firewall.setup()
        for net in self.store.all():
            if net.driver == "bridge":
                self._bring_up(net)

    # ------------------------------------------------------------ networks

    def _predefined(self) -> None:
        """bridge, host and none exist from the start, as in Docker; the default
        bridge's subnet is picked once and kept."""
        for name, driver in (("bridge", "bridge"), ("host", "host"), ("none", "null")):
            found = self.store.find(name)
            if found is None or found.name != name:
                net = Network(id=secrets.token_hex(32), name=name, driver=driver,
                              created=time.time())
                if driver == "bridge":
                    net.subnet = ipam.pick_subnet(ipam.DEFAULT_BRIDGE_POOLS, self._used())
                    net.gateway = ipam.gateway_of(net.subnet)
                    net.bridge = self.names.default_bridge
                    net.options = {"com.docker.network.bridge.default_bridge": "true",
                                   "com.docker.network.bridge.name": net.bridge}
                self.store.save(net)

    def _used(self) -> list[str]:
        """Subnets a new network must not overlap: the host's routes (but not those of
        our own bridges, which come and go with the daemon) and our networks."""
        ours = {n.subnet for n in self.store.all() if n.subnet}
        return [*links.host_routes(), *ours]

    def _ip_forward(self) -> None:
        """Containers' packets to the outside are *routed* by the host (bridge -> eth0),
        which Linux does only with ip_forward on. Docker turns it on; so do we, and
        say so, only if it was off."""
        try:
            with open(IP_FORWARD) as f:
                if f.read().strip() == "1":
                    return
            with open(IP_FORWARD, "w") as f:
                f.write("1")
            log.warning("net.ipv4.ip_forward was 0: set to 1 for containers' traffic out")
        except OSError as e:
            log.warning("cannot enable ip_forward (%s): containers cannot reach outside", e)

    def _bring_up(self, net: Network) -> None:
        prefixlen = ipaddress.ip_network(net.subnet).prefixlen
        links.ensure_bridge(self.names, net.bridge, net.gateway, prefixlen)
        self.firewall.add_network(net.bridge, net.subnet, net.internal)
        if net.user_defined and net.id not in self._dns:
            try:
                self._dns[net.id] = dns.Server(
                    net.gateway, net.subnet, lambda name: self._resolve(net, name),
                    upstream=lambda client: self._upstream(net, client))
            except OSError as e:
                log.warning("network %s: no DNS on %s:53 (%s)", net.name, net.gateway, e)

    def _bring_down(self, net: Network) -> None:
        server = self._dns.pop(net.id, None)
        if server is not None:
            server.close()
        self.firewall.remove_network(net.bridge, net.subnet, net.internal)
        links.delete_link(self.names, net.bridge)

    def get(self, ref: str) -> Network:
        net = self.store.find(ref)
        if net is None:
            raise NotFound(f"network {ref} not found")
        return net

    def list(self) -> list[Network]:
        return self.store.all()

    def create(self, body: dict) -> Network:
        name = body.get("Name") or ""
        if not name:
            raise InvalidParameter("network name is required")
        driver = body.get("Driver") or "bridge"
        if driver != "bridge":
            raise NotFound(f"plugin \"{driver}\" not found")
        with self._lock:
            if any(n.name == name for n in self.store.all()):
                raise Conflict(f"network with name {name} already exists")
            configs = ((body.get("IPAM") or {}).get("Config")) or []
            subnet = configs[0].get("Subnet") if configs else None
            try:
                if subnet:
                    subnet = str(ipaddress.ip_network(subnet, strict=False))
                    if ipaddress.ip_network(subnet).version != 4:
                        raise InvalidParameter("only IPv4 subnets are supported")
                    ipam.pick_subnet([subnet], self._used())
                    gateway = configs[0].get("Gateway") or ipam.gateway_of(subnet)
                else:
                    subnet = ipam.pick_subnet(ipam.USER_POOLS, self._used())
                    gateway = ipam.gateway_of(subnet)
            except ValueError as e:
                raise InvalidParameter(f"invalid subnet: {e}") from None
            except ipam.PoolExhausted:
                if subnet:
                    raise Forbidden("Pool overlaps with other one on this address space") \
                        from None
                raise
            nid = secrets.token_hex(32)
            net = Network(id=nid, name=name, driver="bridge", created=time.time(),
                          subnet=subnet, gateway=gateway, bridge=self.names.user_bridge(nid),
                          internal=bool(body.get("Internal")),
                          attachable=bool(body.get("Attachable")),
                          labels=body.get("Labels") or {}, options=body.get("Options") or {})
            try:
                self._bring_up(net)
            except BaseException:
                with contextlib.suppress(Exception):
                    self._bring_down(net)
                raise
            self.store.save(net)
            return net

    def remove(self, ref: str) -> None:
        net = self.get(ref)
        if net.predefined:
            raise Forbidden(f"{net.name} is a pre-defined network and cannot be removed")
        with self._lock:
            if self.containers_on(net):
                raise Forbidden(f"error while removing network: network {net.name} id "
                                f"{net.id} has active endpoints")
            self._bring_down(net)
            self.store.delete(net)

    def containers_on(self, net: Network) -> builtins.list[tuple[Sandbox, Endpoint]]:
        with self._lock:
            return [(sb, ep) for sb in self._sandboxes.values() for ep in sb.endpoints
                    if ep.network_id == net.id]

    def _resolve(self, net: Network, name: str) -> builtins.list[str] | None:
        found = []
        for sb, ep in self.containers_on(net):
            names = {sb.name.lower(), sb.hostname.lower(), sb.cid[:12],
                     *(a.lower() for a in ep.aliases)}
            if name in names:
                found.append(ep.address)
        return found or None

    def _upstream(self, net: Network, client: str) -> builtins.list[str]:
        """Where `net`'s DNS relays a name it does not know, for the container at
        `client`: the servers it was given with --dns, else the host's."""
        for sb, ep in self.containers_on(net):
            if ep.address == client and sb.dns:
                return list(sb.dns)
        return dns.upstream_servers()

    def mode(self, mode: str) -> str:
        """A NetworkMode as given at create -> what the container record keeps."""
        if mode in ("default", ""):
            return "bridge"
        net = self.get(mode)
        return "none" if net.driver == "null" else net.name

    # ------------------------------------------------------------ sandboxes

    def _save(self, sb: Sandbox) -> None:
        path = os.path.join(self.dir, f"{sb.cid}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(asdict(sb), f)
        os.rename(path + ".tmp", path)

    def sandbox(self, cid: str) -> Sandbox | None:
        with self._lock:
            return self._sandboxes.get(cid)

    def rename(self, cid: str, name: str) -> None:
        """`docker rename` of a running container: its networks' DNS answers the new
        name from now on, not the old one (moby's Sandbox.Rename)."""
        with self._lock:
            sb = self._sandboxes.get(cid)
            if sb is not None:
                sb.name = name
                self._save(sb)

    def attach(self, cid: str, name: str, hostname: str, networks: dict[str, dict],
               port_bindings: dict | None, dns: builtins.list[str] | None = None) -> Sandbox:
        """Make the container's namespace, plug it into each network, publish its ports.
        With `executor_makes_links`: only plan the endpoints (the executor makes them).
        `dns`: the container's own resolvers (--dns), which its networks' DNS asks."""
        bindings = parse_bindings(port_bindings)
        sb = Sandbox(cid=cid, path=os.path.join(self.dir, cid), name=name, hostname=hostname,
                     dns=list(dns or []))
        with self._lock:
            if cid in self._sandboxes:
                self._teardown(self._sandboxes[cid])
            self._sandboxes[cid] = sb
            self._save(sb)
        make_links = not self.executor_makes_links
        try:
            if make_links:
                netns.create(sb.path)
            for net_name, config in networks.items():
                self._plug(sb, self.get(net_name), config or {}, make_links)
            if bindings and sb.endpoints:
                self._publish(sb, bindings)
        except BaseException:
            self.detach(cid)
            raise
        return sb

    def _plug(self, sb: Sandbox, net: Network, config: dict,
              make_links: bool = True) -> Endpoint:
        """Reserve an address on `net` and record the endpoint; make its veth unless
        the executor will (`make_links` False: only the plan, MAC included)."""
        if net.driver != "bridge":
            raise InvalidParameter(f"container cannot be connected to network {net.name}")
        wanted = ((config.get("IPAMConfig") or {}).get("IPv4Address")) or None
        mac = macaddr.ethernet_mac(config["MacAddress"]) if config.get("MacAddress") else ""
        aliases = [a for a in (config.get("Aliases") or []) if a]
        with self._lock:
            if any(ep.network_id == net.id for ep in sb.endpoints):
                raise Forbidden(f"endpoint with name {sb.name} already exists in network "
                                f"{net.name}")
            address = ipam.allocate(net.subnet, net.gateway, net.allocations, sb.cid, wanted)
            self.store.save(net)
            ep = Endpoint(network_id=net.id, network=net.name,
                          host_end=self.names.veth(sb.cid, net.id),
                          ifname=f"eth{len(sb.endpoints)}", address=address,
                          prefixlen=ipaddress.ip_network(net.subnet).prefixlen,
                          gateway=net.gateway, aliases=aliases, bridge=net.bridge)
            sb.endpoints.append(ep)
            self._save(sb)
        if not make_links:
            ep.mac = mac or links.mac_for(address)  # the MAC links.plug would have given it
        else:
            ep.mac = links.plug(self.names, sb.path, ep.host_end, net.bridge, ep.ifname,
                                address, ep.prefixlen, net.gateway,
                                default_route=ep.ifname == "eth0", mac=mac)
        with self._lock:
            self._save(sb)
        return ep

    def pin_namespace(self, cid: str, pid: int) -> None:
        """The executor has made the container's init, `pid`: with
        `executor_makes_links`, pin the namespace it made at the sandbox's usual path.

        A namespace lives only as long as something refers to it, and LXC's refers
        to it only through the container's processes; the pin (a bind mount of
        /proc/<pid>/ns/net, as `ip netns attach` makes) is what lets the daemon do as
        it does in every era: `network connect` plugs a veth into it by path, `docker
        inspect` shows it as SandboxKey, and the teardown finds it. The engine calls
        this between the executor's create and start: the init exists and waits, so
        the pid cannot be another process's yet.
        Otherwise (the daemon made and pinned the namespace in `attach`): nothing."""
        if not self.executor_makes_links:
            return
        sb = self.sandbox(cid)
        if sb is not None:
            netns.pin(pid, sb.path)

    def _publish(self, sb: Sandbox, bindings: builtins.list[Binding]) -> None:
        ep = sb.endpoints[0]
        bridge = self.get(ep.network_id).bridge
        proxies = self._proxies.setdefault(sb.cid, [])
        for b in bindings:
            proxy = Proxy(b, (ep.address, b.port))
            proxies.append(proxy)
            port = Port(b.proto, b.port, b.host_ip, proxy.host_port, ep.address, bridge)
            with self._lock:
                sb.ports.append(port)
                self._save(sb)
            self.firewall.add_port(bridge, port.proto, port.host_ip, port.host_port,
                                   port.address, port.port)

    def detach(self, cid: str) -> None:
        with self._lock:
            sb = self._sandboxes.get(cid)
        if sb is not None:
            self._teardown(sb)

    def _teardown(self, sb: Sandbox) -> None:
        """Undo a sandbox, whatever part of it exists (after a crash, maybe little)."""
        for proxy in self._proxies.pop(sb.cid, []):
            proxy.close()
        for p in sb.ports:
            with contextlib.suppress(OSError):
                self.firewall.remove_port(p.bridge, p.proto, p.host_ip, p.host_port,
                                          p.address, p.port)
        for ep in sb.endpoints:
            # The namespace going takes the veth with it, but only once nothing holds
            # the namespace: delete our end now, the pair goes at once. (LXC deletes
            # the host ends it made as its container stops: gone already is fine.)
            with contextlib.suppress(OSError, ValueError):
                links.delete_link(self.names, ep.host_end)
        netns.remove(sb.path)
        with self._lock:
            for net in self.store.all():
                if ipam.release_owner(net.allocations, sb.cid):
                    self.store.save(net)
            self._sandboxes.pop(sb.cid, None)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.dir, f"{sb.cid}.json"))

    def connect(self, cid: str, net_ref: str, config: dict) -> Endpoint | None:
        """`docker network connect` of a running container: one more veth, now."""
        net = self.get(net_ref)
        sb = self.sandbox(cid)
        if sb is None:
            return None
        return self._plug(sb, net, config)

    def disconnect(self, cid: str, net_ref: str) -> None:
        net = self.get(net_ref)
        sb = self.sandbox(cid)
        if sb is None:
            return
        for ep in list(sb.endpoints):
            if ep.network_id == net.id:
                with contextlib.suppress(OSError, ValueError):
                    links.delete_link(self.names, ep.host_end)
                with self._lock:
                    sb.endpoints.remove(ep)
                    if ipam.release_owner(net.allocations, cid):
                        self.store.save(net)
                    self._save(sb)

    # ------------------------------------------------------------ the daemon's life

    def recover(self, running: set[str]) -> None:
        """After a restart: sandboxes of containers still running (live restore) get
        their proxies back; the others are undone; addresses held by no sandbox freed."""
        with self._lock:
            sandboxes = list(self._sandboxes.values())
        for sb in sandboxes:
            if sb.cid in running:
                proxies = self._proxies.setdefault(sb.cid, [])
                for p in sb.ports:
                    with contextlib.suppress(EngineError):
                        proxies.append(Proxy(Binding(p.proto, p.port, p.host_ip, p.host_port),
                                             (p.address, p.port)))
                    self.firewall.add_port(p.bridge, p.proto, p.host_ip, p.host_port,
                                           p.address, p.port)
            else:
                self._teardown(sb)
        with self._lock:
            for net in self.store.all():
                stale = [a for a, owner in net.allocations.items()
                         if owner not in self._sandboxes]
                for a in stale:
                    del net.allocations[a]
                if stale:
                    self.store.save(net)
        # Namespace files no record names (a crash between create and record).
        for entry in os.listdir(self.dir):
            if not entry.endswith((".json", ".tmp")) and entry not in self._sandboxes:
                netns.remove(os.path.join(self.dir, entry))

    def shutdown(self) -> None:
        """The daemon stops. With no container left running, everything on the host
        goes (bridges, rules); the networks stay in the store and come back at start."""
        for cid in list(self._proxies):
            for proxy in self._proxies.pop(cid):
                proxy.close()
        for server in self._dns.values():
            server.close()
        self._dns.clear()
        with self._lock:
            if self._sandboxes:
                return  # live-restored containers keep their network
        for net in self.store.all():
            if net.driver == "bridge":
                with contextlib.suppress(OSError, ValueError):
                    self.firewall.remove_network(net.bridge, net.subnet, net.internal)
                    links.delete_link(self.names, net.bridge)
        self.firewall.teardown()
