"""A client that attaches and stops reading must not grow the daemon's memory.

Docker's answer (kept by ours, stdio.Subscription): each attached client gets at most
1 MB of output ahead of what it has read; then the output waits for it, the pipe from
the container fills, and the container's writes block until the client reads or goes.
Here the container tries to print 200 MB to a client that reads nothing: the daemon's
resident memory must stay within a bound far below that, `docker logs` must still
answer, and once the client goes, the output flows again.
"""

from __future__ import annotations

import os
import socket
import time

from tests.behaviour.clients import Clients

PRINT_200M = "yes 0123456789012345678901234567890123456789 | head -c 200000000"
GROWTH_BOUND = 64 << 20  # the daemon's RSS may grow by this much; 200 MB would not fit


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def attach_without_reading(clients: Clients, name: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(str(clients.engine.socket))
    sock.sendall((f"POST /containers/{name}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
                  "Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                  "Content-Length: 0\r\n\r\n").encode())
    return sock


def logged_bytes(log_path: str) -> int:
    folder, base = os.path.split(log_path)
    return sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder)
               if n.startswith(base))


def test_a_client_that_stops_reading_does_not_grow_the_daemon(clients: Clients) -> None:
    name = clients.name()
    created = clients.docker("create", "--name", name, "--log-opt", "max-size=10m",
                             "--log-opt", "max-file=2", "busybox", "sh", "-c", PRINT_200M)
    assert created.returncode == 0, created.stderr
    before = rss(clients.engine.pid)
    sock = attach_without_reading(clients, name)
    try:
        time.sleep(0.5)  # the attach is in place before the output starts
        started = clients.api("POST", f"/containers/{name}/start")
        assert started.status == 204, started.body
        log_path = clients.wait_until(lambda: clients.inspect(name)["LogPath"], what="LogPath")

        # The output flows until the client's share is full, then stops: wait until the
        # log has not grown for a second (or the container is done, had it not stopped).
        sizes = [-1]

        def settled() -> bool:
            size = logged_bytes(log_path)
            still = size == sizes[-1]
            sizes.append(size)
            time.sleep(1)
            return still or not clients.inspect(name)["State"]["Running"]

        clients.wait_until(settled, timeout=120, what="the output to stop flowing")
        grown = rss(clients.engine.pid) - before
        assert grown < GROWTH_BOUND, f"the daemon grew by {grown >> 20} MiB"
        assert clients.inspect(name)["State"]["Running"]  # held up, not ended

        shown = clients.docker("logs", "--tail", "2", name, timeout=30)
        assert shown.returncode == 0, shown.stderr
        assert "0123456789" in shown.stdout
    finally:
        sock.close()
    # The client is gone: the output flows again.
    held = logged_bytes(log_path)
    clients.wait_until(lambda: logged_bytes(log_path) != held, timeout=30,
                       what="the output to flow again")
