"""The pty stage 1 gives LXC's tools: raw, and kept raw whatever they set (no LXC needed)."""

from __future__ import annotations

import os
import termios
import tty

import pytest

from stages.stage1_lxc import lxc_terminal

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="TIOCSLCKTRMIOS needs root")


def lxc_setup_tios(fd: int) -> None:
    """What LXC 5's lxc_setup_tios does to its terminal: "the same settings ssh uses",
    output processing on."""
    attrs = termios.tcgetattr(fd)
    attrs[0] = (attrs[0] | termios.IGNPAR) & ~(termios.ICRNL | termios.IXON)
    attrs[3] &= ~(termios.ISIG | termios.ICANON | termios.ECHO)
    attrs[1] |= termios.OPOST | termios.ONLCR
    termios.tcsetattr(fd, termios.TCSAFLUSH, attrs)


def test_output_stays_raw_after_lxc_sets_its_terminal_up() -> None:
    master, slave = lxc_terminal.open_pty({"height": 33, "width": 111})
    try:
        lxc_setup_tios(slave)  # accepted, as by LXC: the locked bits keep their values
        assert not lxc_terminal.output_processing(master)
        os.write(slave, b"hi\r\n")  # what the container's own pty hands lxc-start
        assert os.read(master, 100) == b"hi\r\n"
    finally:
        os.close(slave)
        os.close(master)


def test_without_the_lock_lxc_would_add_a_second_cr() -> None:
    """The defect the lock prevents, shown on a pty made raw but not locked."""
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        lxc_setup_tios(slave)
        assert lxc_terminal.output_processing(master)
        os.write(slave, b"hi\r\n")
        assert os.read(master, 100) == b"hi\r\r\n"
    finally:
        os.close(slave)
        os.close(master)
