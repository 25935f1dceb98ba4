"""Stage 4's containerd: stage 3's, with the tasks moved out into shims.

tasks.py  the Tasks service: one shim per task, calls passed on, shims found again
shims.py  starting a shim, finding it from its bundle, calling it

The server, the Containers service and the gRPC API are stage 3's, imported.
"""
