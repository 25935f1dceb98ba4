"""The engine's side of networking: what a container's networks mean at each start.

The network manager (shared/network) makes bridges, namespaces, veths, NAT and DNS; this
module is the glue that asks it for a container's sandbox when the container starts,
tells the spec which namespace to join, writes the container's /etc files, and lets
`docker network connect/disconnect` change a container's networks.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from shared.daemon import createfields, etcfiles
from shared.daemon.events import Events
from shared.daemon.state import Container, ContainerStore
from shared.errors import Conflict, EngineError, InvalidParameter, NotFound
from shared.network import portmap
from shared.network.manager import Forbidden, NetworkManager, Sandbox


class ContainerNetworking:
    def __init__(self, manager: NetworkManager | None, containers: ContainerStore,
                 lock: threading.RLock, events: Events | None = None) -> None:
        # None: no bridge networking (unit tests); bridge containers get `none`'s.
        self.manager = manager
        self.containers = containers
        self._lock = lock  # the engine's: a container's record changes under it
        self.events = events or Events()

    def resolver(self) -> Callable[[str], str] | None:
        """How a create request's network names become the record's (containerconfig)."""
        return self.manager.mode if self.manager is not None else None

    # ------------------------------------------------------------ at each start

    def attach(self, c: Container) -> Sandbox | None:
        """Make (or, for an executor that makes its own links, plan) the container's
        network namespace on each of its networks, with its published ports."""
        if self.manager is None or not c.networks:
            return None
        ports = portmap.requested(c.host_config, c.config.get("ExposedPorts"))
        sandbox = self.manager.attach(c.id, c.name, c.config["Hostname"], c.networks, ports,
                                      dns=c.host_config.get("Dns") or [])
        for ep in sandbox.endpoints if sandbox is not None else []:
            self._log("connect", ep.network_id, c.id)
        return sandbox

    def _log(self, action: str, net_ref: str, cid: str) -> None:
        """moby's LogNetworkEventWithAttributes: the network, and which container."""
        if self.manager is not None:
            with contextlib.suppress(EngineError):
                net = self.manager.get(net_ref)
                self.events.network(action, net.id, net.name, net.driver, container=cid)

    def pin(self, cid: str, pid: int, sandbox: Sandbox | None) -> None:
        """After create: keep the namespace the executor made (if it made it)."""
        if sandbox is not None and self.manager is not None:
            self.manager.pin_namespace(cid, pid)

    def rename(self, cid: str, name: str) -> None:
        if self.manager is not None:
            self.manager.rename(cid, name)

    def detach(self, cid: str) -> None:
        if self.manager is not None:
            sandbox = self.manager.sandbox(cid)
            self.manager.detach(cid)
            for ep in sandbox.endpoints if sandbox is not None else []:
                self._log("disconnect", ep.network_id, cid)

    def joined(self, c: Container) -> Container | None:
        """The running container whose network `c` joins (None in other modes); `c`
        takes its hostname too. Looked up at each start, as dockerd does."""
        mode = c.host_config.get("NetworkMode") or ""
        if not mode.startswith("container:"):
            return None
        target = self.containers.get(mode.partition(":")[2])
        if target.id == c.id:
            raise InvalidParameter("cannot join own network")
        if not target.state.running or not target.state.pid:
            raise Conflict(f"cannot join network of a non running container: {target.id}")
        c.config["Hostname"] = target.config["Hostname"]
        return target

    def etc_mounts(self, c: Container, container_dir: str, sandbox: Sandbox | None,
                   joined: Container | None) -> list[dict]:
        """/etc/hostname, hosts and resolv.conf, bind-mounted into the container; a
        container on another's network shares that one's files."""
        if joined is not None:
            return etcfiles.mounts(self.containers.dir(joined.id))
        return etcfiles.write(
            container_dir, c.config["Hostname"], c.host_config["NetworkMode"] == "host",
            addresses=[ep.address for ep in sandbox.endpoints] if sandbox else [],
            nameservers=self._nameservers(sandbox), host_config=c.host_config,
            host_gateway=self._host_gateway(),
        )

    def _host_gateway(self) -> str:
        """What `--add-host NAME:host-gateway` names: the host, by the address it has
        on the default bridge (dockerd's default host-gateway-ip)."""
        if self.manager is None:
            return ""
        return self.manager.get("bridge").gateway or ""

    def spec_args(self, sandbox: Sandbox | None, joined: Container | None) -> dict:
        """How the spec names the container's network: the namespace the daemon made,
        by path, or (an executor that makes its own links: stage 1's LXC) the plan of
        the interfaces for the namespace the executor makes; or, joining a container's
        network, the namespace its init is in, which any era's executor can join."""
        if joined is not None:
            return {"netns_path": f"/proc/{joined.state.pid}/ns/net"}
        if sandbox is None or self.manager is None:
            return {}
        if self.manager.executor_makes_links:
            return {"interfaces": [ep.plan() for ep in sandbox.endpoints]}
        return {"netns_path": sandbox.path}

    def _nameservers(self, sandbox: Sandbox | None) -> list[str]:
        """A user-defined network's containers ask its DNS (on the gateway) first."""
        if sandbox is None or self.manager is None:
            return []
        manager = self.manager
        return [ep.gateway for ep in sandbox.endpoints
                if manager.get(ep.network_id).user_defined][:1]

    # ------------------------------------------------------------ connect, disconnect

    def connect(self, net_ref: str, ref: str, config: dict) -> None:
        """`docker network connect`: on the network from now on, and at once if running."""
        createfields.refuse_unsupported_endpoint(config or {})
        if self.manager is None:
            raise NotFound(f"network {net_ref} not found")
        net = self.manager.get(net_ref)
        c = self.containers.get(ref)
        if (c.host_config.get("NetworkMode") or "").startswith("container:"):
            raise Forbidden("container sharing network namespace with another container or "
                            "host cannot be connected to any other network")
        if c.host_config.get("NetworkMode") in ("host", "none") or net.driver != "bridge":
            raise InvalidParameter(f"container cannot be connected to network {net.name}"
                                   if net.driver == "bridge" else
                                   "container cannot be disconnected from host network or "
                                   "connected to host network")
        with self._lock:
            if net.name in c.networks:
                raise Forbidden(f"endpoint with name {c.name} already exists in network "
                                f"{net.name}")
            if c.state.running and self.manager.connect(c.id, net.id, config or {}):
                self._log("connect", net.id, c.id)
            c.networks[net.name] = config or {}
            self.containers.save(c)

    def disconnect(self, net_ref: str, ref: str) -> None:
        if self.manager is None:
            raise NotFound(f"network {net_ref} not found")
        net = self.manager.get(net_ref)
        c = self.containers.get(ref)
        with self._lock:
            if net.name not in c.networks:
                raise Forbidden(f"container {c.id} is not connected to network {net.name}")
            if c.state.running:
                self.manager.disconnect(c.id, net.id)
                self._log("disconnect", net.id, c.id)
            del c.networks[net.name]
            self.containers.save(c)
