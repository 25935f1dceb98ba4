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

Where a shim's memory goes (private memory, USS, from /proc/PID/smaps_rollup; see
tests/bench_scale.py): ~5.1 MiB, of which Debian's python3 -I -S doing nothing holds
2.2 MiB (its own data and first objects), socket, json and threading with what they
import (enum, re, collections, selectors) 2.0 MiB more, ctypes (for prctl) 0.2 and
this repository's modules 0.5. containerd-shim-runc-v2, in Go, holds 2.4 MiB: a shim
in Python costs more than docker's as soon as it starts. Measured and left out for
saving too little: MALLOC_ARENA_MAX=1 (0.02 MiB), -OO (0.15 MiB, and it drops the
docstrings the help text is made of), a smaller thread stack (each thread touches
only ~12 kB of its stack), gc.freeze (it only pays in processes forked from one that
imported everything: such a child holds 1.3 MiB, not 5.1, but then a shim would be a
fork of a shim-making server, not the program containerd started).
"""
