"""`python -m tests.as_a_service COMMAND...`: run COMMAND with every signal at its default
and none blocked, as a service manager (systemd) starts a daemon.

The test run's own ignored signals (nohup's SIGHUP, a CI shell's SIGINT, SIGQUIT and 32)
must not reach an engine: its containers would inherit them, through LXC, or through a
Go runc, which keeps SIGHUP and SIGINT ignored when it finds them so. Not `env
--default-signal`: glibc's sigaction() skips 32 and 33, which only the raw syscall
resets (libcontainer's syscalls.default_action). The command is exec'd: its pid is ours.
"""

from __future__ import annotations

import os
import signal
import sys

from stages.stage2_libcontainer.libcontainer import syscalls

if __name__ == "__main__":
    for sig in range(1, signal.NSIG):
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            syscalls.default_action(sig)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    os.execvp(sys.argv[1], sys.argv[1:])
