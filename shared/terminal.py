"""Copy between a container's pty master and the daemon's FIFOs.

With `-t`, a container has one terminal instead of three streams, and whoever holds
the master end (the daemon in stage 2, containerd in stage 3, a shim in stage 4) must
copy what the container prints into the stdout FIFO and what the user types into the
master. Reading the master fails with EIO once no slave is open: the process is gone.
"""

from __future__ import annotations

import fcntl
import os
import struct
import termios
import threading


def set_winsize(fd: int, height: int, width: int) -> None:
    """Set a pty's window size. The kernel sends SIGWINCH to its foreground process
    group: the container's process (or stage 1's LXC tool, which passes the size on)."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def copy_terminal(master: int, stdin: str | None, stdout: str) -> list[threading.Thread]:
    """Start the copies, one thread each; the first returned ends with the output."""
    out = os.open(stdout, os.O_WRONLY)

    def output() -> None:
        try:
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every slave fd is closed
                    break
                if not data:
                    break
                os.write(out, data)
        except OSError:
            pass  # nobody reads the FIFO any more
        finally:
            os.close(out)

    threads = [threading.Thread(target=output, daemon=True)]
    if stdin:
        fd = os.open(stdin, os.O_RDONLY)

        def input_() -> None:
            try:
                while data := os.read(fd, 65536):
                    os.write(master, data)
            except OSError:
                pass
            finally:
                os.close(fd)

        threads.append(threading.Thread(target=input_, daemon=True))
    for t in threads:
        t.start()
    return threads
