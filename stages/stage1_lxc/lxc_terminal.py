r"""The pty stage 1 gives lxc-start (or lxc-attach) when a container has `-t`.

Two terminals stand between a `-t` container and the daemon's FIFOs:

    init ── /dev/pts/0 ── lxc-start ── our pty ── the daemon's FIFOs
            the container's   copies      a pipe with a window size:
            devpts: echoes,   both ways   it must change nothing
            \n -> \r\n

LXC takes the terminal of lxc-start (its /dev/tty: our pty's slave) for a human's,
and sets it up "the same way ssh does" (`lxc_setup_tios`): no echo, no signals, but
output processing ON (OPOST|ONLCR). On our pty that turns every "\r\n" the container
writes into "\r\r\n". Setting our pty raw before lxc-start runs is not enough: LXC
overwrites it. Turning OPOST off again afterwards is a race we cannot win. LXC 5
sets the mode after the start-host hook (our last stop before the init runs) and
then at once lets the init exec, so its first line can pass through our pty before
any thread of ours turns OPOST back off (about 1 `echo` in 4 came out "\r\r\n").

The kernel has a lock for exactly this: TIOCSLCKTRMIOS (root only) marks termios
bits that no tcsetattr may change any more; the tty layer keeps their old values
(`unset_locked_termios`). We make the pty raw, lock its output flags, and only then
start the tool: LXC's tcsetattr still succeeds, and output processing stays off.
"""

from __future__ import annotations

import fcntl
import os
import struct
import termios
import tty

from shared.terminal import set_winsize

# The kernel's `struct termios` (what TCGETS/TIOCSLCKTRMIOS copy), not glibc's: four
# flag words, c_line, then NCCS=19 control characters. In the lock, a set bit (or a
# non-zero c_cc entry) means "keep the current value".
KERNEL_TERMIOS = struct.Struct("4IB19s")
ALL_BITS = 0xFFFFFFFF


def lock_output_flags(fd: int) -> None:
    """Lock every c_oflag bit of a terminal at its current value (see the docstring).

    On a pty master the ioctl acts on the slave's termios, the one a tcsetattr of the
    slave (LXC's, through /dev/tty) changes.
    """
    fcntl.ioctl(fd, termios.TIOCSLCKTRMIOS,
                KERNEL_TERMIOS.pack(0, ALL_BITS, 0, 0, 0, bytes(19)))


def output_processing(fd: int) -> bool:
    """Whether the terminal's line discipline rewrites output (OPOST)."""
    return bool(termios.tcgetattr(fd)[1] & termios.OPOST)


def open_pty(size: dict | None = None) -> tuple[int, int]:
    """A pty for an LXC tool: raw, its output flags locked, optionally sized.
    Returns (master, slave); the caller gives the slave to the tool and closes it."""
    master, slave = os.openpty()
    try:
        tty.setraw(slave)  # no echo, no line editing, no \n -> \r\n: the container's does
        lock_output_flags(master)
        if size:
            set_winsize(master, size["height"], size["width"])
    except BaseException:
        os.close(master)
        os.close(slave)
        raise
    return master, slave
