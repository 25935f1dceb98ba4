"""A terminal for `-t`: made inside the container, its master handed out.

The pseudo-terminal must come from the container's own devpts instance
(/dev/pts/ptmx after pivot_root), or `tty` inside would name a /dev/pts/N that does
not exist there. So the container's process opens it and sends the master end to
whoever holds the other end of a unix socket, as one message whose ancillary data
carries the file descriptor (SCM_RIGHTS): the "console socket" of the OCI runtime
contract. The slave becomes the process's controlling terminal and its stdio.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import termios


def set_size(fd: int, height: int, width: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def setup(console_socket: socket.socket, size: tuple[int, int] | None) -> int:
    """Open a pty, send its master, make the slave our controlling tty; return it.
    `size`: (height, width), or None to leave the kernel's default."""
    master, slave = os.openpty()  # /dev/ptmx -> pts/ptmx: the container's devpts
    name = os.ttyname(slave)
    if size is not None:
        set_size(master, *size)
    socket.send_fds(console_socket, [name.encode()], [master])
    os.close(master)
    console_socket.close()
    # We are a session leader (setsid) without a terminal: this one becomes ours.
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    return slave


def receive(console_socket: socket.socket) -> tuple[str, int]:
    """The other side: (pty name, master fd) from the container's process."""
    data, fds, _, _ = socket.recv_fds(console_socket, 4096, 1)
    if not fds:
        raise OSError("console socket: the container sent no terminal")
    return data.decode(), fds[0]
