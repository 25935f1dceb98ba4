"""OCI runtime conformance: the runtime spec's requirements, run against any runtime.

Each test checks what one sentence of the OCI runtime specification (v1.2:
runtime.md, config.md, config-linux.md) requires, and its docstring quotes that
sentence. The runtime under test is a binary speaking runc's command line:

    make test-runtime                    our bin/whalebones-runc (the default)
    make test-runtime RUNTIME=runc       Debian's runc
    make test-runtime RUNTIME=crun       Debian's crun (run with the host's cgroup2 mount
                                         hidden: see conftest.crun_wrapper)

RUNTIME may also be a path. Where Debian's runc or crun fails a check, the test is
marked xfail for that runtime only (conftest.xfail_on), with the reason: a bug of
that runtime, or a limit of this host. The check itself is never weakened.

Real containers from a busybox rootfs, as root; every test leaves nothing behind
(no state, cgroup, mount or process: conftest.Runtime.cleanup checks).
"""
