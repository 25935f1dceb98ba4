"""whalebones-shim: one per container, its parent for as long as it lives.

main.py      start-up: bind the socket, detach from containerd, then serve
server.py    the API: each call a method of Shim, passed on to stage 3's Task
protocol.py  the wire: a JSON line in, a JSON line out, over a unix socket

The work itself (runc create/start/exec, the FIFOs, the terminal, the exit status) is
stage 3's `containerd/task.py`, imported unchanged: in stage 3 containerd keeps one
Task per container in its own memory; here each Task has a process of its own.
"""
