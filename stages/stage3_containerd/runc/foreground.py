"""`run` and `exec` without --detach: stay, pass signals on, and return the exit code.

Here runc, not containerd, is the one waiting, so it first makes itself a child
subreaper: libcontainer's intermediate process exits right after forking the
container's process, and that orphan is then handed to us instead of to the host's
init. We wait for it like any child and exit with its code (128+N for signal N, as
a shell reports it). Signals sent to runc (Ctrl-C with no terminal, `kill`) are
forwarded to it.

With process.terminal and no --console-socket, runc holds the pty itself: the
container's process sends the master over a socket pair, and two threads copy our
stdin to it and its output to our stdout, with our own terminal in raw mode so that
keys (Ctrl-C included) reach the container's line discipline untouched.
"""

from __future__ import annotations

import fcntl
import os
import signal
import termios

FORWARDED = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM,
             signal.SIGUSR1, signal.SIGUSR2)


def _copy(src: int, dst: int) -> None:
    while True:
        try:
            data = os.read(src, 65536)
        except OSError:  # EIO on a master: nobody holds the pty's other end any more
            return
        if not data:
            return
        while data:
            data = data[os.write(dst, data):]


class Terminal:
    """The container's pty, joined to our own stdin and stdout."""

    def __init__(self, master: int) -> None:
        # Imported here: only a `run` with a terminal needs them, and they are ~0.9 ms
        # of every other (python3 -I -S, medians of 40 pairs).
        import threading
        import tty

        self.master = master
        self.saved = termios.tcgetattr(0) if os.isatty(0) else None
        if self.saved is not None:
            tty.setraw(0)
            self.resize()
        threading.Thread(target=_copy, args=(0, master), daemon=True).start()
        self.output = threading.Thread(target=_copy, args=(master, 1), daemon=True)
        self.output.start()

    def resize(self) -> None:
        """Our window size onto the pty (the kernel then sends SIGWINCH inside)."""
        if os.isatty(0):
            size = fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, size)

    def close(self) -> None:
        self.output.join(timeout=2)  # the last output, up to the pty's hang-up
        if self.saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, self.saved)
        os.close(self.master)


def forward_signals(pid: int, terminal: Terminal | None = None) -> None:
    """From now on, signals sent to us go to `pid`. Call it before the process may
    run the user's program: a signal that came between the two would kill runc."""

    def forward(sig: int, _frame: object) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    for sig in FORWARDED:
        signal.signal(sig, forward)
    if terminal is not None:
        signal.signal(signal.SIGWINCH, lambda _sig, _frame: terminal.resize())


def wait(pid: int, terminal: Terminal | None = None) -> int:
    """Wait for our child `pid`, forwarding signals to it; its exit code."""
    forward_signals(pid, terminal)
    # As a subreaper we may be handed other orphans of the container: reap them too.
    while True:
        reaped, status = os.waitpid(-1, 0)
        if reaped == pid:
            break
    for sig in FORWARDED:
        signal.signal(sig, signal.SIG_DFL)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code
