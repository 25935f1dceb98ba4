"""The daemon's side of a container's standard streams.

The daemon makes three FIFOs per process (`init-stdin`, `init-stdout`, `init-stderr`,
or `<exec-id>-...`), as dockerd does for containerd, and opens its ends:

    stdout/stderr  read here, copied to the json-file log and to every attached client
    stdin          written here from the attached client that owns stdin

The executor opens the other ends for the container. Opening a FIFO for reading with
O_NONBLOCK does not wait for a writer, but reading one that never had a writer returns
EOF at once; so the copy starts only after the executor has created the process and
its write ends exist.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable

from shared.daemon.executor import IOConfig

log = logging.getLogger("whalebones")


def make_fifos(directory: str, prefix: str, stdin: bool, terminal: bool) -> IOConfig:
    os.makedirs(directory, mode=0o700, exist_ok=True)
    paths = {}
    for stream in ("stdin", "stdout", "stderr"):
        if (stream == "stdin" and not stdin) or (stream == "stderr" and terminal):
            continue
        path = os.path.join(directory, f"{prefix}-{stream}")
        if os.path.exists(path):
            os.unlink(path)
        os.mkfifo(path, 0o600)
        paths[stream] = path
    return IOConfig(
        stdin=paths.get("stdin"),
        stdout=paths["stdout"],
        stderr=paths.get("stderr"),
        terminal=terminal,
    )


def remove_fifos(io: IOConfig) -> None:
    for path in (io.stdin, io.stdout, io.stderr):
        if path:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


Item = tuple[str, bytes | None]


class Subscription:
    """One attached client's share of the output: a queue of at most LIMIT bytes.

    A client that stops reading (a terminal paused with Ctrl-S, a reader that hangs,
    or one that does it on purpose) must not make the daemon buffer the container's
    output without end. Docker's answer, kept here: the output waits for the client.
    moby copies a container's stdout through a broadcaster that writes to each
    attached client's BytesPipe in turn, and a BytesPipe blocks its writer once it
    holds 1 MB (ioutils.blockThreshold); so the copy stops, the pipe from the
    container fills, and the container's next write blocks until the client reads
    again. Nothing is lost: `docker run ... | slow-consumer` gets every byte. Dropping
    a slow client's output (or the client) would bound memory too, but would cut
    what a slow pipe receives, which Docker never does.

    The ends of streams and of the process (data None) are never held back: they are
    few, and what waits for them (an exit being recorded) must not wait for a client.
    """

    LIMIT = 1 << 20  # moby's BytesPipe blockThreshold

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._items: deque[Item] = deque()
        self._bytes = 0
        self._closed = False

    def put(self, item: Item) -> None:
        """Queue `item`; output waits while the queue is full (until the client reads
        or goes away)."""
        data = item[1]
        with self._changed:
            while data is not None and self._bytes >= self.LIMIT and not self._closed:
                self._changed.wait()
            if self._closed:
                return
            self._items.append(item)
            self._bytes += len(data or b"")
            self._changed.notify_all()

    def get(self) -> Item:
        """The next item, waiting for one; ("exit", None) once closed."""
        with self._changed:
            while not self._items and not self._closed:
                self._changed.wait()
            if self._closed:
                return ("exit", None)
            item = self._items.popleft()
            self._bytes -= len(item[1] or b"")
            self._changed.notify_all()
            return item

    def close(self) -> None:
        """The client is gone: what it had not read is dropped, a waiting writer freed."""
        with self._changed:
            self._closed = True
            self._items.clear()
            self._bytes = 0
            self._changed.notify_all()


class Broadcast:
    """Fan-out of output to whoever is attached right now.

    What `docker attach` shows is output from the moment of attaching, not from the
    start: that is the log's job. Listeners get (stream, data) and, when a stream ends,
    (stream, None); when the process has exited and every copy is done, ("exit", None).
    Each listener's queue is bounded (Subscription): a listener that does not read
    holds up the output, as in Docker, instead of growing the daemon's memory.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: list[Subscription] = []

    def subscribe(self) -> Subscription:
        sub = Subscription()
        with self._lock:
            self._subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Idempotent: a route may call it from more than one place."""
        with self._lock:
            if sub in self._subscriptions:
                self._subscriptions.remove(sub)
        sub.close()

    def publish(self, stream: str, data: bytes | None) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        for sub in subscriptions:
            sub.put((stream, data))


class ProcessIO:
    """One process's streams: copies output from its FIFOs to a sink, input to its FIFO.

    The sink gets (stream, data) for each chunk and (stream, None) at each stream's end.
    """

    def __init__(
        self,
        io: IOConfig,
        sink: Callable[[str, bytes | None], None],
        on_close_stdin: Callable[[], None] | None = None,
    ) -> None:
        self.io = io
        self._sink = sink
        self._on_close_stdin = on_close_stdin  # tell the executor (its CloseIO)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._read_fds: dict[str, int] = {}
        self._stdin_fd: int | None = None
        try:
            for stream in ("stdout", "stderr"):
                path = getattr(io, stream)
                if path:
                    self._read_fds[stream] = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            if io.stdin:
                # O_RDWR never blocks on a FIFO (we are a reader too), and the process
                # reads EOF only when we close it: that is how StdinOnce ends its input.
                self._stdin_fd = os.open(io.stdin, os.O_RDWR)
        except OSError:
            self.close()
            raise

    def start_copying(self) -> None:
        """Call once the process exists and holds the write ends of the FIFOs."""
        for stream, fd in self._read_fds.items():
            os.set_blocking(fd, True)
            t = threading.Thread(target=self._copy, args=(stream, fd), daemon=True)
            t.start()
            self._threads.append(t)

    def _copy(self, stream: str, fd: int) -> None:
        # The copy outlives whatever fails in a sink (a log on a full disk, a bug): if
        # it stopped reading, the container would block on a full pipe, or die of
        # SIGPIPE once the read end closed.
        try:
            while data := os.read(fd, 65536):
                try:
                    self._sink(stream, data)
                except Exception:
                    log.exception("copying %s of %s", stream, getattr(self.io, stream))
        finally:
            os.close(fd)
            self._sink(stream, None)

    def write_stdin(self, data: bytes) -> bool:
        """False once stdin is closed (the process can no longer read more)."""
        with self._lock:
            fd = self._stdin_fd
            if fd is None:
                return False
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(fd, view) :]
            except OSError:
                return False
            return True

    def close_stdin(self) -> None:
        with self._lock:
            fd, self._stdin_fd = self._stdin_fd, None
        if fd is not None:
            os.close(fd)
            if self._on_close_stdin is not None:
                self._on_close_stdin()

    def wait_drained(self, timeout: float = 5.0) -> None:
        """Wait until every output stream has reached EOF (the copies are complete)."""
        for t in self._threads:
            t.join(timeout)

    def close(self) -> None:
        self.close_stdin()
        if not self._threads:  # never started: the read ends are still ours to close
            for fd in self._read_fds.values():
                os.close(fd)
            self._read_fds.clear()
        remove_fifos(self.io)
