"""Run a CLI under a real pseudo-terminal, as a user at a terminal would."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time

CURSOR_QUERY = b"\x1b[6n"
PROMPT = b"\r\n/ # "


class PtySession:
    """A CLI process whose stdin/stdout/stderr are the slave side of a fresh pty."""

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 24,
                 cols: int = 80) -> None:
        self.master, slave = os.openpty()
        self.resize(rows, cols, signal_it=False, fd=slave)
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                        start_new_session=True)
        os.close(slave)
        self.output = b""

    def resize(self, rows: int, cols: int, signal_it: bool = True, fd: int | None = None) -> None:
        """Set the terminal's size, then tell the CLI as the kernel would (SIGWINCH)."""
        fcntl.ioctl(self.master if fd is None else fd, termios.TIOCSWINSZ,
                    struct.pack("HHHH", rows, cols, 0, 0))
        if signal_it:
            os.kill(self.process.pid, signal.SIGWINCH)

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def read_until(self, needle: bytes, timeout: float = 10, since: int = 0) -> bytes:
        """Read until `needle` appears in the output after offset `since`; fail after `timeout`."""
        end = time.monotonic() + timeout
        while needle not in self.output[since:]:
            left = end - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(f"no {needle!r} in the terminal within {timeout} s: "
                                     f"{self.output!r}")
        return self.output

    def finish(self, timeout: float = 15) -> int:
        """Read to the end of the output; return the CLI's exit status."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self._read(end - time.monotonic()):
            pass
        try:
            return self.process.wait(max(0.1, end - time.monotonic()))
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every slave fd is closed, the CLI is gone
            return False
        if CURSOR_QUERY in data:
            # busybox's line editor asks where the cursor is; answer as a terminal would
            os.write(self.master, b"\x1b[1;1R")
        self.output += data
        return bool(data)

    def command(self, line: str, timeout: float = 10) -> bytes:
        """Type `line` at an interactive busybox shell; return what it printed before the
        next prompt."""
        mark = len(self.output)
        self.send(line + "\n")
        self.read_until(PROMPT, timeout, since=mark)
        return self.output[mark:]

    def wait_for_size(self, rows: int, cols: int, timeout: float = 5,
                      resignal: bool = False) -> None:
        """Ask the shell for its terminal size until it is rows x cols.

        The engine applies a size asynchronously (docker before API 1.42 resizes after
        start), so one look could be early; busybox's stty only reads the size of its
        stdout, which must be the terminal itself, hence an interactive shell.
        """
        end = time.monotonic() + timeout
        want = f"\r\n{rows} {cols}\r\n".encode()
        while want not in self.command("stty size"):
            if time.monotonic() > end:
                raise AssertionError(f"terminal size never became {rows} {cols}: {self.output!r}")
            time.sleep(0.1)
            if resignal:
                # The docker CLI starts watching SIGWINCH only after the container has
                # started (and may print a prompt): a signal sent in that window is
                # lost, and a user would simply resize again.
                os.kill(self.process.pid, signal.SIGWINCH)
