"""`whalebones`, the command line: a docker-compatible client of the Engine API.

    api.py       HTTP/1.1 over a unix socket, by hand: request(), stream(), hijack()
    streams.py   Docker's stdout/stderr framing (shared with the daemon)
    attach.py    copying between our stdio and a hijacked connection
    terminal.py  raw mode and window size for -t
    (flags: shared/flags.py, the docker-style parser runc and the shim use too)
    cli.py       global flags and dispatch to one module per verb in commands/

`TYPE_CHECKING = False`, not `from typing import TYPE_CHECKING`: the standard
library's own idiom, so that the imports only type checkers need cost nothing.
Nothing else the client loads imports `typing`, which would add ~2 ms to every
`whalebones` and `./run` call (2.0-2.4 ms measured with python3 -I -S -X importtime,
beside what the program imports anyway; `typing` alone is ~10 ms).
"""
