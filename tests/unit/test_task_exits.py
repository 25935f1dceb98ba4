"""Unit tests: the daemon's reader of containerd's event stream (task_exits.py).

containerd here is our real Events service (an Exchange, over gRPC on a unix socket in
a temp dir) with no tasks at all; what Tasks.State/Wait would answer after a break is
a FAKE `reconcile` function. The stages' tests (tests/stages/stage3/test_events.py,
test_live_restore.py, stage4's test_shims.py) check the same with real containers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from shared.daemon.executor import ExecutorError, ExitStatus
from stages.stage3_containerd.containerd.events import EventsService, Exchange
from stages.stage3_containerd.proto import containerd_pb2_grpc as rpc
from stages.stage3_containerd.task_exits import TaskExits

NS = "whalebones"
METADATA = (("containerd-namespace", NS),)


class Containerd:
    """An Events service that can be stopped and started again on the same socket."""

    def __init__(self, socket: Path) -> None:
        self.address = f"unix://{socket}"
        self.exchange = Exchange()
        self.server: grpc.Server | None = None

    def start(self) -> None:
        self.exchange = Exchange()
        self.server = grpc.server(futures.ThreadPoolExecutor(8))
        rpc.add_EventsServicer_to_server(EventsService(self.exchange), self.server)
        self.server.add_insecure_port(self.address)
        self.server.start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.stop(grace=None).wait()

    def subscribed(self) -> bool:
        return bool(self.exchange._queues)


@pytest.fixture
def containerd(tmp_path: Path) -> Iterator[Containerd]:
    c = Containerd(tmp_path / "containerd.sock")
    c.start()
    yield c
    c.stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("not in time")
        time.sleep(0.02)


def reader(containerd: Containerd, stopped: dict[str, ExitStatus],
           gone_with_containerd: bool = False) -> tuple[TaskExits, grpc.Channel]:
    channel = grpc.insecure_channel(containerd.address, options=[
        ("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 200)])
    exits = TaskExits(channel, METADATA, NS, lambda cid: stopped.get(cid),
                      gone_with_containerd, lambda: ExecutorError("containerd is gone"))
    return exits, channel


def test_an_exit_and_an_oom_come_from_the_stream(containerd: Containerd) -> None:
    exits, channel = reader(containerd, {})
    exits.watch("c1")
    wait_until(containerd.subscribed)
    containerd.exchange.publish(NS, "/tasks/oom", id="c1")
    containerd.exchange.publish(NS, "/tasks/exit", id="c1", exec_id="", exit_status=137,
                                exited_at=1.5)
    assert exits.wait("c1") == ExitStatus(code=137, exited_at=1.5, oom_killed=True)
    exits.close()
    channel.close()


def test_an_exit_missed_while_the_stream_was_down_is_found_by_reconciling(
        containerd: Containerd) -> None:
    stopped: dict[str, ExitStatus] = {}
    exits, channel = reader(containerd, stopped)
    exits.watch("c1")
    wait_until(containerd.subscribed)
    containerd.stop()
    # ... the task exits now, and nobody hears of it (FAKE: what State/Wait will say)
    stopped["c1"] = ExitStatus(code=3, exited_at=2.0)
    containerd.start()
    assert exits.wait("c1") == ExitStatus(code=3, exited_at=2.0)
    exits.close()
    channel.close()


def test_in_stage_3_a_broken_stream_ends_every_watch(containerd: Containerd) -> None:
    exits, channel = reader(containerd, {}, gone_with_containerd=True)
    exits.watch("c1")
    wait_until(containerd.subscribed)
    containerd.stop()
    with pytest.raises(ExecutorError, match="containerd is gone"):
        exits.wait("c1")
    containerd.start()  # for the fixture's stop
    exits.close()
    channel.close()
