"""Whalebones' containerd: container lifecycles, behind a gRPC API, out of the daemon.

server.py      the gRPC server, namespaces, why containerd is a child subreaper
containers.py  the Containers service: metadata (id + OCI spec)
tasks.py       the Tasks service: bundles, `runc create/start/exec/kill/delete`
runtime.py     how an OCI runtime CLI is called (go-runc's job in the real one)
process.py     a process containerd watches: its exit, its terminal
"""
