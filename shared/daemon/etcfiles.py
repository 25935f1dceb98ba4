"""/etc/hostname, /etc/hosts and /etc/resolv.conf: written by the daemon, bound in.

An image's own copies know nothing of the container they end up in, so Docker
writes these three per container, in the container's directory, and bind-mounts them
over the image's. Changing them inside changes only the container's copy.
"""

from __future__ import annotations

import os

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


def resolv_conf(host_network: bool, nameservers: list[str] | None = None) -> str:
    try:
        with open("/etc/resolv.conf") as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
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


def write(container_dir: str, hostname: str, host_network: bool,
          addresses: list[str] | None = None, nameservers: list[str] | None = None) -> list[dict]:
    """Write the three files; return the bind mounts that put them in place.

    `addresses`: the container's own, each given the hostname in /etc/hosts (as Docker
    writes "172.17.0.2  <hostname>"); `nameservers`: what resolv.conf names first."""
    if host_network:
        try:
            with open("/etc/hosts") as f:
                hosts = f.read()
        except FileNotFoundError:
            hosts = HOSTS
    else:
        hosts = HOSTS + "".join(f"{a}\t{hostname}\n" for a in addresses or [])
    files = {"hostname": hostname + "\n", "hosts": hosts,
             "resolv.conf": resolv_conf(host_network, nameservers)}
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
