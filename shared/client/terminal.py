"""The local terminal: raw mode and window size.

With `-t` the container gets its own pseudo-terminal, and *its* line discipline
does the echoing, line editing and Ctrl-C -> SIGINT. Ours must then step aside:
raw mode hands every keystroke to us (and so to the container) unprocessed, and
stops our terminal echoing what the container will echo anyway. A terminal left
in raw mode is unusable, hence the context manager: it restores on every exit.

The container's pty also needs our window size, or full-screen programs draw for
80x24. We send it at create (ConsoleSize), after start, and whenever the kernel
tells us it changed (SIGWINCH).
"""

from __future__ import annotations

import os
import termios
import tty
from contextlib import contextmanager

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from collections.abc import Iterator


def window_size(fd: int) -> tuple[int, int] | None:
    """(rows, columns) of the terminal on `fd`, or None if it is not one."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return None
    return size.lines, size.columns


@contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """Put the terminal on `fd` in raw mode for the duration of the block."""
    saved = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)
    try:
        yield
    finally:
        # TCSADRAIN: let our last output reach the screen before modes change back.
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
