"""Our hand-written HTTP client against a FAKE daemon: a thread answering canned bytes
on a real unix socket. It checks the wire format (requests, chunking, hijack leftovers,
errors), not Docker's behaviour; tests/client does that against a real engine."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.client.api import APIError, Client, DaemonUnreachable, encode_query, quote


class FakeDaemon:
    """Answers each connection with the next canned reply; records the requests."""

    def __init__(self, path: Path, replies: list[bytes]) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen()
        self.replies = replies
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        for reply in self.replies:
            conn, _ = self.server.accept()
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + body)
                conn.sendall(reply)
                if b" 101 " in reply.split(b"\r\n")[0]:
                    self.requests.append(conn.recv(100))  # what the client sent after

    def close(self) -> None:
        self.thread.join(5)
        self.server.close()


PING = (b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n"
        b"Content-Type: text/plain\r\n\r\n")


@pytest.fixture
def sock_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "fake.sock"


def test_negotiates_version_and_reads_json(sock_path: Path) -> None:
    body = b'{"Id": "abc"}'
    daemon = FakeDaemon(sock_path, [PING, b"HTTP/1.1 201 Created\r\nContent-Type: "
                        b"application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)])
    client = Client(f"unix://{sock_path}")
    assert client.request("POST", "/containers/create", query={"name": "x"},
                          body={"Image": "busybox"}) == {"Id": "abc"}
    daemon.close()
    assert daemon.requests[0].startswith(b"HEAD /_ping HTTP/1.1\r\n")
    request = daemon.requests[1]
    assert request.startswith(b"POST /v1.41/containers/create?name=x HTTP/1.1\r\n")
    assert request.endswith(b'\r\n\r\n{"Image": "busybox"}')
    assert client.version == "1.41"


def test_chunked_body_streams(sock_path: Path) -> None:
    daemon = FakeDaemon(sock_path, [PING, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                        b"\r\n5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n"])
    response = Client(f"unix://{sock_path}").stream("GET", "/containers/x/logs")
    assert b"".join(response.chunks()) == b"hello world!"
    response.close()
    daemon.close()


def test_error_message(sock_path: Path) -> None:
    body = b'{"message":"No such container: x"}'
    daemon = FakeDaemon(sock_path, [PING, b"HTTP/1.1 404 Not Found\r\nContent-Type: "
                        b"application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)])
    with pytest.raises(APIError) as raised:
        Client(f"unix://{sock_path}").request("GET", "/containers/x/json")
    assert (raised.value.status, raised.value.message) == (404, "No such container: x")
    daemon.close()


def test_hijack_keeps_bytes_that_came_with_the_headers(sock_path: Path) -> None:
    daemon = FakeDaemon(sock_path, [PING, b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\n"
                        b"Upgrade: tcp\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x02hi"])
    conn = Client(f"unix://{sock_path}").hijack("/containers/x/attach", query={"stream": True})
    data = conn.leftover
    while len(data) < 10:
        data += conn.sock.recv(100)
    assert data == b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
    conn.sock.sendall(b"typed")
    daemon.close()
    assert b"Upgrade: tcp" in daemon.requests[1] and b"Connection: Upgrade" in daemon.requests[1]
    assert daemon.requests[2] == b"typed"
    conn.sock.close()


def test_no_daemon(sock_path: Path) -> None:
    with pytest.raises(DaemonUnreachable, match="Is it running"):
        Client(f"unix://{sock_path}").request("GET", "/info")


def test_query_encoding() -> None:
    assert encode_query({"all": True, "force": False, "t": 5, "x": None}) == "?all=1&t=5"
    assert encode_query({}) == ""
    assert quote('{"a":1} /') == "%7B%22a%22%3A1%7D%20%2F"
