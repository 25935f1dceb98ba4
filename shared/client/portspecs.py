"""`-p`, `-P` and `--expose`: from the command line to ExposedPorts and PortBindings.

The docker CLI, not the daemon, reads `-p 127.0.0.1:8080:80/tcp`; the API only ever
sees the result, keyed by the container's port:

    ExposedPorts  {"80/tcp": {}}                                   the ports it listens on
    PortBindings  {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}   and where
                                                                   the host forwards them

An empty HostPort asks the daemon to pick one. The rules and the error texts below are
those of the Go library the docker CLI uses (go-connections' nat.ParsePortSpec), so a
bad spec fails here, before anything is created, with docker's message.
"""

from __future__ import annotations

PROTOCOLS = ("tcp", "udp", "sctp")


class PortSpecError(ValueError):
    """A -p or --expose value docker would refuse (the text is docker's)."""


def split_proto_port(text: str) -> tuple[str, str]:
    """`80/udp` -> ("udp", "80"); `80` and `80/` -> ("tcp", "80"); `` -> ("", "")."""
    port, _, proto = text.partition("/")
    if not port:
        return "", ""
    return proto.partition("/")[0] or "tcp", port


def port_range(text: str) -> tuple[int, int]:
    """`8000-8010` -> (8000, 8010); `80` -> (80, 80). Go's ParseUint(text, 10, 16)
    messages, since docker shows them (`--expose abc`)."""
    if not text:
        raise PortSpecError("empty string specified for ports")
    if "-" not in text:
        port = _uint16(text)
        return port, port
    parts = text.split("-")  # as Go: a third part ("1-2-3") is ignored
    start, end = _uint16(parts[0]), _uint16(parts[1])
    if end < start:
        raise PortSpecError(f"invalid range specified for port: {text}")
    return start, end


def _uint16(text: str) -> int:
    if not text.isdigit() or not text.isascii():
        raise PortSpecError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) > 65535:
        raise PortSpecError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return int(text)


def long_syntax(spec: str) -> str:
    """`published=8080,target=80,protocol=udp` -> `8080:80/udp` (the CLI's
    convertToStandardNotation); anything without `=` is already short syntax."""
    if "=" not in spec:
        return spec
    params = {"protocol": "tcp"}
    for param in spec.split(","):
        key, has_value, value = param.partition("=")
        if not has_value or not key:
            raise PortSpecError(
                f"invalid publish opts format (should be name=value but got '{param}')")
        params[key] = value
    return f"{params.get('published', '')}:{params.get('target', '')}/{params['protocol']}"


def parse_publish(spec: str) -> list[tuple[str, dict[str, str]]]:
    """One `-p` value -> [("80/tcp", {"HostIp": ..., "HostPort": ...}), ...].

    `[IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`; IPv6 addresses come in brackets. A range
    of container ports needs a host range as long (or none); one container port with a
    host range asks for any free port of that range.
    """
    parts = spec.split(":")
    container = parts[-1]
    host_port = parts[-2] if len(parts) >= 2 else ""
    ip = ":".join(parts[:-2])  # what is left is the address, colons and all (IPv6)
    proto, container = split_proto_port(container)
    if ip.startswith("["):
        ip = ip[1:].removesuffix("]")
    if ip:
        import ipaddress  # here, not at the top: ~1 ms of every `./run` without -p

        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise PortSpecError(f"invalid IP address: {ip}") from None
    if not container:
        raise PortSpecError(f"no port specified: {spec}<empty>")
    try:
        start, end = port_range(container)
    except PortSpecError:
        raise PortSpecError(f"invalid containerPort: {container}") from None
    host_start = host_end = 0
    if host_port:
        try:
            host_start, host_end = port_range(host_port)
        except PortSpecError:
            raise PortSpecError(f"invalid hostPort: {host_port}") from None
        if end - start != host_end - host_start and end != start:
            raise PortSpecError(f"invalid ranges specified for container and host Ports: "
                                f"{container} and {host_port}")
    proto = proto.lower()
    if proto not in PROTOCOLS:
        raise PortSpecError(f"invalid proto: {proto}")
    mappings = []
    for offset in range(end - start + 1):
        host = str(host_start + offset) if host_port else ""
        if start == end and host_start != host_end:
            host = f"{host_start}-{host_end}"  # one container port: any of the range
        mappings.append((f"{start + offset}/{proto}", {"HostIp": ip, "HostPort": host}))
    return mappings


def parse_expose(spec: str) -> list[str]:
    """One `--expose` value, `PORT[/PROTO]` or `START-END[/PROTO]` -> ["80/tcp", ...]."""
    if ":" in spec:
        raise PortSpecError(f"invalid port format for --expose: {spec}")
    proto, port = split_proto_port(spec)
    try:
        start, end = port_range(port)
    except PortSpecError as error:
        raise PortSpecError(
            f"invalid range format for --expose: {spec}, error: {error}") from None
    return [f"{number}/{proto}" for number in range(start, end + 1)]


def ports_config(publish: list[str], expose: list[str]) -> tuple[dict, dict]:
    """All `-p` and `--expose` values -> (ExposedPorts, PortBindings). A published port
    is exposed too; two `-p` for one container port give it two bindings."""
    exposed: dict[str, dict] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for spec in publish:
        for key, binding in parse_publish(long_syntax(spec)):
            exposed[key] = {}
            bindings.setdefault(key, []).append(binding)
    for spec in expose:
        for key in parse_expose(spec):
            exposed[key] = {}
    return exposed, bindings
