"""Published ports (`-p HOST:CONTAINER[/proto]`, `-p CONTAINER`): DNAT plus a proxy.

Two paths lead to a published port, as in Docker:

- From another machine, or from the host to one of its own non-loopback addresses,
  a DNAT rule in our nat chain (nat.py) rewrites the destination to the container's
  address and port; the kernel forwards the packet over the bridge and un-NATs the reply.
- From the host's loopback, no DNAT can help (a packet from 127.0.0.1 may not leave
  `lo`, see nat.py), so a *userland proxy* listens on HOST_IP:HOST_PORT, accepts, and
  opens its own connection to the container (docker-proxy's job). Listening also
  reserves the port: nothing else on the host can take it while the container runs.

Here the proxy is a thread of the daemon's (one per listening socket, two per
connection) rather than a docker-proxy process per port: a port costs no process
start-up, and a daemon restarted with live containers (live restore) starts them again.
A random host port (`-p 80`) is the port the kernel gives the proxy's socket bound to
port 0 (from net.ipv4.ip_local_port_range, as Docker's own allocator range).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from dataclasses import dataclass

from shared.errors import EngineError, InvalidParameter

log = logging.getLogger("whalebones.network")


@dataclass(frozen=True)
class Binding:
    proto: str  # tcp | udp
    port: int  # in the container
    host_ip: str  # "" = every address
    host_port: int  # 0 = the kernel picks
    host_port_last: int = 0  # with host_port: pick a free one in that range (-p 8000-8010:80)

    @property
    def host_ports(self) -> str:
        """As the user wrote it: 8080, or 8000-8010."""
        last = f"-{self.host_port_last}" if self.host_port_last else ""
        return f"{self.host_port}{last}"

    @property
    def key(self) -> str:
        return f"{self.port}/{self.proto}"


def requested(host_config: dict, exposed: dict | None) -> dict:
    """The PortBindings to publish at a start: those asked for, and with PublishAllPorts
    (`docker run -P`) every exposed port that has none of its own, on a host port the
    kernel picks, on every host address. Worked out at each start, as dockerd does,
    so a restarted container may get other random ports."""
    bindings = dict(host_config.get("PortBindings") or {})
    if host_config.get("PublishAllPorts"):
        for key in exposed or {}:
            bindings.setdefault(key, [{"HostIp": "", "HostPort": ""}])
    return bindings


def parse_bindings(port_bindings: dict | None) -> list[Binding]:
    """HostConfig.PortBindings {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}."""
    found = []
    for key, hosts in (port_bindings or {}).items():
        port_text, _, proto = str(key).partition("/")
        proto = (proto or "tcp").lower()
        if proto not in ("tcp", "udp") or not port_text.isdigit():
            raise InvalidParameter(f"invalid port specification: {key!r}")
        for h in hosts or [{}]:
            h = h or {}
            text = str(h.get("HostPort") or "")
            low, _, high = text.partition("-")
            if text and not (low.isdigit() and (not high or high.isdigit())):
                raise InvalidParameter(f"invalid port specification: {text!r}")
            host_port = int(low) if low else 0
            last = int(high) if high and high != low else 0
            if not 0 <= host_port <= 65535 or not 0 < int(port_text) <= 65535 or \
                    not (last == 0 or host_port < last <= 65535):
                raise InvalidParameter(f"invalid port specification: {key}")
            found.append(Binding(proto, int(port_text), h.get("HostIp") or "", host_port, last))
    return found


class Proxy:
    """Listen on the host, forward each connection (or datagram) to the container."""

    def __init__(self, binding: Binding, target: tuple[str, int]) -> None:
        self.binding = binding
        self.target = target
        kind = socket.SOCK_STREAM if binding.proto == "tcp" else socket.SOCK_DGRAM
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        host_ip = binding.host_ip or "0.0.0.0"
        # A range is tried in order, as Docker's port allocator does: the first free one.
        candidates = range(binding.host_port, (binding.host_port_last or binding.host_port) + 1)
        for port in candidates:
            try:
                self.sock.bind((host_ip, port))
                break
            except OSError as e:
                error = e
        else:
            self.sock.close()
            if binding.host_port_last:
                raise EngineError("driver failed programming external connectivity: all "
                                  f"ports are allocated ({host_ip}:{binding.host_ports})")
            raise EngineError(
                f"driver failed programming external connectivity: Bind for "
                f"{host_ip}:{binding.host_port} failed: port is already allocated "
                f"({error.strerror})"
            ) from None
        self.host_port = self.sock.getsockname()[1]
        self._closed = threading.Event()
        if binding.proto == "tcp":
            self.sock.listen(128)
            run = self._accept
        else:
            run = self._datagrams
        threading.Thread(target=run, name=f"proxy-{self.host_port}", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()  # as docker-proxy: the client sees the connection close
            return
        back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        back.start()
        _pipe(client, upstream)
        back.join()
        client.close()
        upstream.close()

    def _datagrams(self) -> None:
        """UDP: one upstream socket per client address, replies relayed back."""
        upstreams: dict[tuple[str, int], socket.socket] = {}
        while not self._closed.is_set():
            try:
                data, client = self.sock.recvfrom(65535)
            except OSError:
                break
            up = upstreams.get(client)
            if up is None:
                up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                up.connect(self.target)
                upstreams[client] = up
                threading.Thread(target=self._replies, args=(up, client), daemon=True).start()
            with contextlib.suppress(OSError):
                up.send(data)
        for up in upstreams.values():
            up.close()

    def _replies(self, up: socket.socket, client: tuple[str, int]) -> None:
        up.settimeout(90)  # docker-proxy's UDP connection timeout
        while not self._closed.is_set():
            try:
                data = up.recv(65535)
                self.sock.sendto(data, client)
            except OSError:
                return


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)  # half-close: the other way may go on
    except OSError:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_RDWR)
    finally:
        with contextlib.suppress(OSError):
            src.shutdown(socket.SHUT_RD)
