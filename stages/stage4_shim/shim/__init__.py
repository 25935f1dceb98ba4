"""whalebones-shim: one per container, its parent for as long as it lives.

main.py      start-up: bind the socket, detach from containerd, then serve
server.py    the API: each call a method of Shim, passed on to stage 3's Task
protocol.py  the wire: a JSON line in, a JSON line out, over a unix socket

The work itself (runc create/start/exec, the FIFOs, the terminal, the exit status) is
stage 3's `containerd/task.py`, imported unchanged: in stage 3 containerd keeps one
Task per container in its own memory; here each Task has a process of its own.

`TYPE_CHECKING = False`, not `from typing import TYPE_CHECKING`: the standard
library's own idiom, so that the imports only type checkers need cost nothing.
Nothing else the shim loads imports `typing`, which would add ~4 ms (3.9 ms with
python3 -I -S -X importtime) to the start of each container's shim, and its modules
to the memory each shim holds for as long as its container lives.
"""
