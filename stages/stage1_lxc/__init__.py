"""Stage 1: the LXC era (Docker 0.1, March 2013).

The first Docker was one daemon that kept images and a REST API, and made containers
by asking LXC, the Linux Containers userspace tools of the time: it wrote an LXC
config file per container and ran `lxc-start`. Namespaces, cgroups, pivot_root and
capability drops were LXC's business; Docker's was images, the API and the workflow.
A year later (0.9) Docker replaced LXC with its own libcontainer: stage 2.
"""
