"""iptables rules, all in chains of our own, so that ours are easy to see and remove.

    nat    WHALEBONES              DNAT of published ports (portmap.py adds the rules)
           jumped to from PREROUTING (traffic arriving from outside, or from another
           container) and from OUTPUT (the host's own connections to one of its
           non-loopback addresses) for local destinations only
    nat    WHALEBONES-POSTROUTING  MASQUERADE: a container's packets leaving by another
           interface than its bridge get the host's address, so replies find their way
    filter WHALEBONES-FORWARD      accept what containers send, and replies to it; but
                                   first, through the two ISOLATION chains, drop what
                                   one network sends to another
    filter WHALEBONES-ISOLATION-1  per network: leaving its bridge for another
                                   interface? then ask -2
    filter WHALEBONES-ISOLATION-2  per network: entering its bridge? DROP

Isolation is Docker's design (DOCKER-ISOLATION-STAGE-1/2): two chains make it one rule
per network in each, where "drop A to B" for every pair would be N x N rules. Traffic
to the outside leaves -2 without a match and goes on to be accepted.

Loopback is left out of the OUTPUT jump (`! -d 127.0.0.0/8`), as Docker leaves it when
its userland proxy is on: the kernel refuses to route a packet with a 127.0.0.0/8
source out of `lo` (a "martian") unless `route_localnet` is set on the bridge, which
would also let anyone on the bridge reach the host's loopback-only services. The proxy
(portmap.py) answers 127.0.0.1:PORT instead.

Rules are added with -A after checking with -C, and every call passes -w (wait for the
xtables lock: other daemons or tools may be changing rules at the same moment).
"""

from __future__ import annotations

import logging
import subprocess

from shared.network.names import Names

IPTABLES = "iptables"
log = logging.getLogger("whalebones.network")


class FirewallError(OSError):
    pass


def iptables(*args: str, check: bool = True) -> bool:
    result = subprocess.run([IPTABLES, "-w", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise FirewallError(f"iptables {' '.join(args)}: {result.stderr.strip()}")
    return result.returncode == 0


def ensure_rule(table: str, chain: str, *rule: str) -> None:
    if not iptables("-t", table, "-C", chain, *rule, check=False):
        iptables("-t", table, "-A", chain, *rule)


def delete_rule(table: str, chain: str, *rule: str) -> None:
    while iptables("-t", table, "-D", chain, *rule, check=False):
        pass  # a rule added twice (a crash between -C and -A elsewhere) goes twice


class Firewall:
    def __init__(self, names: Names) -> None:
        self.names = names

    def jumps(self) -> list[tuple[str, str, tuple[str, ...]]]:
        n = self.names
        local = ("-m", "addrtype", "--dst-type", "LOCAL")
        return [
            ("nat", "PREROUTING", (*local, "-j", n.chain)),
            ("nat", "OUTPUT", ("!", "-d", "127.0.0.0/8", *local, "-j", n.chain)),
            ("nat", "POSTROUTING", ("-j", n.postrouting_chain)),
            ("filter", "FORWARD", ("-j", n.forward_chain)),
            # First in our FORWARD chain (setup empties it): isolation before any ACCEPT.
            ("filter", n.forward_chain, ("-j", n.isolation_chains[0])),
        ]

    def chains(self) -> list[tuple[str, str]]:
        n = self.names
        return [("nat", n.chain), ("nat", n.postrouting_chain), ("filter", n.forward_chain),
                *(("filter", chain) for chain in n.isolation_chains)]

    def setup(self) -> None:
        """Our chains, empty, and the jumps to them (a crashed daemon's rules go)."""
        for table, chain in self.chains():
            if not iptables("-t", table, "-N", chain, check=False):
                iptables("-t", table, "-F", chain)
        for table, chain, rule in self.jumps():
            ensure_rule(table, chain, *rule)

    def teardown(self) -> None:
        for table, chain, rule in self.jumps():
            delete_rule(table, chain, *rule)
        for table, chain in self.chains():
            if iptables("-t", table, "-F", chain, check=False):
                iptables("-t", table, "-X", chain, check=False)

    # A network: its containers may talk out (masqueraded) and get replies back.
    def network_rules(self, bridge: str, subnet: str,
                      internal: bool) -> list[tuple[str, str, tuple[str, ...]]]:
        n = self.names
        if internal:  # --internal: no way out, nothing from outside
            return [("filter", n.forward_chain, ("-i", bridge, "!", "-o", bridge, "-j", "DROP")),
                    ("filter", n.forward_chain, ("-o", bridge, "!", "-i", bridge, "-j", "DROP"))]
        stage1, stage2 = n.isolation_chains
        return [
            ("filter", stage1, ("-i", bridge, "!", "-o", bridge, "-j", stage2)),
            ("filter", stage2, ("-o", bridge, "-j", "DROP")),
            ("nat", n.postrouting_chain, ("-s", subnet, "!", "-o", bridge, "-j", "MASQUERADE")),
            ("filter", n.forward_chain, ("-i", bridge, "-j", "ACCEPT")),
            ("filter", n.forward_chain, ("-o", bridge, "-m", "conntrack", "--ctstate",
                                         "RELATED,ESTABLISHED", "-j", "ACCEPT")),
        ]

    def add_network(self, bridge: str, subnet: str, internal: bool = False) -> None:
        for table, chain, rule in self.network_rules(bridge, subnet, internal):
            ensure_rule(table, chain, *rule)

    def remove_network(self, bridge: str, subnet: str, internal: bool = False) -> None:
        for table, chain, rule in self.network_rules(bridge, subnet, internal):
            delete_rule(table, chain, *rule)

    # A published port: DNAT to the container, and let it through FORWARD.
    def port_rules(self, bridge: str, proto: str, host_ip: str, host_port: int,
                   address: str, port: int) -> list[tuple[str, str, tuple[str, ...]]]:
        n = self.names
        dst = ("-d", host_ip) if host_ip not in ("", "0.0.0.0") else ()
        return [
            ("nat", n.chain, (*dst, "!", "-i", bridge, "-p", proto, "--dport", str(host_port),
                              "-j", "DNAT", "--to-destination", f"{address}:{port}")),
            ("filter", n.forward_chain, ("-d", address, "!", "-i", bridge, "-o", bridge,
                                         "-p", proto, "--dport", str(port), "-j", "ACCEPT")),
        ]

    def add_port(self, bridge: str, proto: str, host_ip: str, host_port: int,
                   address: str, port: int) -> None:
        for table, chain, rule in self.port_rules(bridge, proto, host_ip, host_port, address,
                                                  port):
            ensure_rule(table, chain, *rule)

    def remove_port(self, bridge: str, proto: str, host_ip: str, host_port: int,
                   address: str, port: int) -> None:
        for table, chain, rule in self.port_rules(bridge, proto, host_ip, host_port, address,
                                                  port):
            delete_rule(table, chain, *rule)

    def rules(self) -> list[str]:
        """Every rule in our chains and every jump to them, as `iptables -S` prints them."""
        found = []
        for table in ("nat", "filter"):
            out = subprocess.run([IPTABLES, "-w", "-t", table, "-S"], capture_output=True,
                                 text=True).stdout
            found += [f"{table} {line}" for line in out.splitlines()
                      if self.names.chain in line.split()
                      or any(c in line.split() for _, c in self.chains())]
        return found
