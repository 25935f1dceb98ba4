"""`whalebones`, the command line: a docker-compatible client of the Engine API.

    api.py       HTTP/1.1 over a unix socket, by hand: request(), stream(), hijack()
    streams.py   Docker's stdout/stderr framing (shared with the daemon)
    attach.py    copying between our stdio and a hijacked connection
    terminal.py  raw mode and window size for -t
    (flags: shared/flags.py, the docker-style parser runc and the shim use too)
    cli.py       global flags and dispatch to one module per verb in commands/
"""
