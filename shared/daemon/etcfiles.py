"""/etc/hostname, /etc/hosts and /etc/resolv.conf: written by the daemon, bound in.

An image's own copies know nothing of the container they end up in, so Docker
writes these three per container, in the container's directory, and bind-mounts them
over the image's. Changing them inside changes only the container's copy.

What a user adds (`--dns`, `--dns-search`, `--dns-option`, `--add-host`) is written
into them as Docker writes it. Each value becomes part of a line of a file that the
container's resolver parses, so a value is one word: a newline in `--dns-search`
would start a line of the user's choosing.
"""

from __future__ import annotations

import ipaddress
import os
import re

from shared.errors import InvalidParameter

HOSTS = """127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
"""
# Docker's fallback when the host only has a local resolver (127.0.0.53 and the like),
# which cannot be reached from inside a network namespace.
FALLBACK_NAMESERVERS = ["8.8.8.8", "8.8.4.4"]


# A word of resolv.conf or hosts: printable, no blank, no comment sign.
WORD = re.compile(r"[!-~]+\Z")


def check_options(host_config: dict) -> None:
    """The create's DNS and extra hosts, refused (400) with dockerd's words where it
    has them, before anything exists."""
    for server in host_config.get("Dns") or []:
        if not _is_ip(server):
            raise InvalidParameter(f"{server} is not an ip address")  # the CLI's words
    for key, flag in (("DnsSearch", "--dns-search"), ("DnsOptions", "--dns-option")):
        for value in host_config.get(key) or []:
            if not WORD.match(value) or "#" in value or ";" in value:
                raise InvalidParameter(f"invalid {flag} value: {value!r}")
    for entry in host_config.get("ExtraHosts") or []:
        extra_host(entry, "")


def extra_host(entry: str, host_gateway: str) -> tuple[str, str]:
    """`--add-host NAME:IP` (dockerd's opts.ValidateExtraHost) -> (name, address).
    IP may be "host-gateway": the host, as the default bridge's gateway reaches it."""
    name, sep, address = entry.partition(":")  # the first ":": IPv6 has more
    if not sep or not name or not WORD.match(name) or "#" in name:
        raise InvalidParameter(f"bad format for add-host: {entry!r}")
    if address == "host-gateway":
        return name, host_gateway
    if not _is_ip(address):
        raise InvalidParameter(f"invalid IP address in add-host: {address!r}")
    return name, address.strip().strip("[]")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return False
    return True


def resolv_conf(host_network: bool, nameservers: list[str] | None = None,
                dns: list[str] | None = None, search: list[str] | None = None,
                options: list[str] | None = None) -> str:
    """The host's resolv.conf, made to work from the container's network namespace.

    `nameservers`: a user-defined network's own DNS, named first (and alone);
    `dns` (--dns): the user's servers instead of the host's (on a user-defined
    network, the network's DNS relays to them instead: shared/network/dns.py);
    `search`, `options`: replace the host's lines, as in Docker."""
    try:
        with open("/etc/resolv.conf") as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    if search:
        text = _replace(text, "search", " ".join(search))
    if options:
        text = _replace(text, "options", " ".join(options))
    if dns and not nameservers:
        text = _replace(text, "nameserver", dns[0])
        text += "".join(f"nameserver {server}\n" for server in dns[1:])
    if host_network:
        return text
    lines = [
        line for line in text.splitlines()
        if not (line.startswith("nameserver") and line.split()[1:2]
                and (line.split()[1].startswith("127.") or line.split()[1] == "::1"))
    ]
    if nameservers:
        # A user-defined network's DNS answers the network's names and relays the rest.
        lines = [line for line in lines if not line.startswith("nameserver")]
        lines = [f"nameserver {ns}" for ns in nameservers] + lines
    elif not any(line.startswith("nameserver") for line in lines):
        lines += [f"nameserver {ns}" for ns in FALLBACK_NAMESERVERS]
    return "\n".join(lines) + "\n"


def _replace(text: str, key: str, value: str) -> str:
    """`text` without its `key` lines, and one `key value` line at the end."""
    kept = [line for line in text.splitlines() if line.split()[:1] != [key]]
    return "\n".join([*kept, f"{key} {value}"]) + "\n"


def write(container_dir: str, hostname: str, host_network: bool,
          addresses: list[str] | None = None, nameservers: list[str] | None = None,
          host_config: dict | None = None, host_gateway: str = "") -> list[dict]:
    """Write the three files; return the bind mounts that put them in place.

    `addresses`: the container's own, each given the hostname in /etc/hosts (as Docker
    writes "172.17.0.2  <hostname>"); `nameservers`: what resolv.conf names first.
    `host_config`: the container's, for its DNS options and extra hosts; a
    `host-gateway` extra host is `host_gateway`."""
    host_config = host_config or {}
    if host_network:
        try:
            with open("/etc/hosts") as f:
                hosts = f.read()
        except FileNotFoundError:
            hosts = HOSTS
    else:
        hosts = HOSTS + "".join(f"{a}\t{hostname}\n" for a in addresses or [])
    for entry in host_config.get("ExtraHosts") or []:
        name, address = extra_host(entry, host_gateway)
        if address:
            hosts += f"{address}\t{name}\n"
    conf = resolv_conf(host_network, nameservers, dns=host_config.get("Dns"),
                       search=host_config.get("DnsSearch"),
                       options=host_config.get("DnsOptions"))
    files = {"hostname": hostname + "\n", "hosts": hosts, "resolv.conf": conf}
    for name, content in files.items():
        with open(os.path.join(container_dir, name), "w") as f:
            f.write(content)
    return mounts(container_dir)


def mounts(container_dir: str) -> list[dict]:
    """The bind mounts of the three files written in `container_dir`. A container that
    joins another's network (`--network container:X`) gets X's own files, as in Docker:
    the same addresses, names and resolver."""
    return [{"destination": f"/etc/{name}", "type": "bind",
             "source": os.path.join(container_dir, name), "options": ["rbind", "rprivate"]}
            for name in ("hostname", "hosts", "resolv.conf")]
