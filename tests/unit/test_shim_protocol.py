"""The shim's wire protocol, against a real shim server serving a fake task.

Unit tests: the Shim's serving loop and protocol.call run for real over a unix socket,
but the Task behind it is a fake (no runtime, no container), so that errors and hang-ups
can be provoked on purpose. The real thing is tested in tests/stages/stage4.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from stages.stage3_containerd.containerd.process import Exit
from stages.stage3_containerd.containerd.task import NotFound, TaskError
from stages.stage4_shim.shim import protocol
from stages.stage4_shim.shim.protocol import ShimError, ShimGone
from stages.stage4_shim.shim.server import Shim


class FakeTask:
    """Stands in for stage 3's Task: answers from memory."""

    def __init__(self) -> None:
        self.processes: dict = {}
        self.released = threading.Event()

    def status(self) -> str:
        return "running"

    def pids(self) -> list[int]:
        return [1, 2, 3]

    def kill(self, exec_id: str, sig: int, all: bool = False) -> None:
        if exec_id:
            raise NotFound(f"process {exec_id} of fake: not found")
        raise TaskError("kill fake: the runtime refused")

    def wait(self, exec_id: str = "") -> Exit:
        self.released.wait(5)
        return Exit(7, 1234.5)

    def delete(self) -> Exit:
        return Exit(7, 1234.5)


@pytest.fixture
def shim(tmp_path: Path) -> Iterator[tuple[str, Shim]]:
    address = str(tmp_path / "shim.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(8)
    server = Shim.__new__(Shim)  # no Reaper, no Runtime: only the serving half
    server.listener, server.stopping, server.task = listener, False, FakeTask()
    server.last_reply_sent = threading.Event()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield address, server
    server.task.released.set()
    server.last_reply_sent.set()
    if not server.stopping:
        listener.shutdown(socket.SHUT_RDWR)
    thread.join(5)
    listener.close()


def test_a_call_and_its_result(shim: tuple[str, Shim]) -> None:
    address, _ = shim
    assert protocol.call(address, "pids") == [1, 2, 3]
    assert protocol.call(address, "state") == {"pid": 0, "status": "running"}


def test_errors_keep_their_kind(shim: tuple[str, Shim]) -> None:
    address, _ = shim
    with pytest.raises(ShimError) as e:
        protocol.call(address, "kill", exec_id="nope", signal=15)
    assert e.value.code == "not_found" and "nope" in str(e.value)
    with pytest.raises(ShimError) as e:
        protocol.call(address, "kill", exec_id="", signal=15)
    assert e.value.code == "failed" and "refused" in str(e.value)


def test_unknown_methods_and_bad_arguments_are_refused(shim: tuple[str, Shim]) -> None:
    address, _ = shim
    with pytest.raises(ShimError) as e:
        protocol.call(address, "__init__")
    assert e.value.code == "bad_request"
    with pytest.raises(ShimError) as e:
        protocol.call(address, "kill", bogus=1)
    assert e.value.code == "failed"


def test_wait_replies_when_the_process_exits(shim: tuple[str, Shim]) -> None:
    address, server = shim
    threading.Timer(0.2, server.task.released.set).start()
    assert protocol.call(address, "wait", timeout=None) == {"status": 7, "exited_at": 1234.5}


def test_delete_stops_the_server(shim: tuple[str, Shim]) -> None:
    address, _ = shim
    assert protocol.call(address, "delete") == {"status": 7, "exited_at": 1234.5}
    with pytest.raises(ShimGone):
        protocol.call(address, "pids", timeout=2)


def test_nobody_there_is_a_gone_shim(tmp_path: Path) -> None:
    with pytest.raises(ShimGone):
        protocol.call(str(tmp_path / "nobody.sock"), "state")
