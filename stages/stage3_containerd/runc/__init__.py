"""whalebones-runc: the OCI runtime command line, a thin shell over stage 2's libcontainer.

In 2015 Docker gave libcontainer, and a small program around it called `runc`, to the
Open Container Initiative. From Docker 1.11 the daemon no longer makes containers
itself: containerd writes an OCI *bundle* (a rootfs and a config.json) and runs

    runc create --bundle B --pid-file F ID   init is made, set up, and blocked
    runc start ID                             init execs the container's program
    runc state ID / kill ID SIG / delete ID   one short-lived process per request

and runc *exits* after each one. The container's init is nobody's child in runc's
sense: when runc's intermediate process exits, the kernel hands init to the nearest
"child subreaper" above it (containerd in stage 3, a shim in stage 4), which waits for
it. Everything runc knows between two calls lives in a state directory, <root>/<ID>/.

This package imports libcontainer from stage 2 rather than copying it: that is what
happened, and the diff between the two stages is exactly "a CLI appeared".

    cli.py        global flags (--root, --log, --log-format...) and dispatch
    one module per verb: create, start, run, state, kill, delete, exec, ps,
                  list, pause, resume, update, spec
    runtime.py    what every verb needs: the root, the log, containers by ID
    bundle.py     <bundle>/config.json -> the spec libcontainer is handed
    foreground.py `run` and `exec` without --detach: wait, forward signals, a terminal
    log.py        logrus-style lines in the --log file, read back by containerd

`TYPE_CHECKING = False`, not `from typing import TYPE_CHECKING`: the standard
library's own idiom, so that the imports only type checkers need cost nothing.
Every verb is a new process, and nothing else it loads imports `typing`: it would
add ~2 ms to each (1.7-2.1 ms with python3 -I -S -X importtime, beside what the verb
imports anyway; a `runc state` takes ~13 ms in all, Debian's runc ~4 ms).
"""
