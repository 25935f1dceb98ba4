"""Container networking: what the daemon kept doing itself in every era.

Docker's `--network bridge` is a handful of kernel objects the daemon makes and owns:

    netns.py    a network namespace per container, made by the daemon and bind-mounted
                on a file, so every era's executor joins it by path (OCI `path`); in
                stage 1 LXC makes it from the daemon's plan and the daemon pins it after
    links.py    through netlink (pyroute2): a Linux bridge per network (`wb0` for the
                default one), a virtual switch; a veth pair per container and network,
                one end on the bridge, the other (eth0) in the container's namespace
    ipam.py     addresses out of the network's subnet, persisted with the network
    nat.py      iptables chains of our own: masquerade out, accept forwarding, and
                isolate networks from each other
    names.py    the prefix every interface and chain of ours is named from
    portmap.py  `-p`: DNAT rules for traffic from outside, a userland proxy for loopback
    dns.py      names of a user-defined network's containers, answered on its gateway
    store.py    the networks, on disk
    manager.py  all of it behind the few calls the engine makes

Every name (interfaces, chains) starts with a prefix of ours (`Names`), and nothing here
touches an interface, route or chain that is not ours.
"""
