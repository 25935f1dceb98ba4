"""containerd's Events stream and Containers.Update, spoken to over gRPC directly
(stage 3 and stage 4: the same API, the tasks in containerd or in shims)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from collections.abc import Iterator

import grpc
import pytest

from stages.stage3_containerd.proto import containerd_pb2 as pb
from stages.stage3_containerd.proto import containerd_pb2_grpc as rpc
from tests.engines import ENGINES, Engine, start_engine

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")
METADATA = (("containerd-namespace", "whalebones"),)


@pytest.fixture(params=[name for name in ("stage3", "stage4") if name in ENGINES])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with start_engine(request.param) as engine:
        yield engine


def channel(engine: Engine) -> grpc.Channel:
    return grpc.insecure_channel(f"unix://{engine.workdir / 'containerd.sock'}")


def docker(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "-H", engine.host, *args], capture_output=True, text=True,
                          timeout=60)


def test_a_container_s_life_in_events(engine: Engine) -> None:
    with channel(engine) as ch:
        stream = rpc.EventsStub(ch).Subscribe(pb.SubscribeRequest(), metadata=METADATA)
        seen: queue.Queue[pb.Envelope] = queue.Queue()

        def read() -> None:
            try:
                for envelope in stream:
                    seen.put(envelope)
            except grpc.RpcError:
                pass  # cancelled at the end of the test

        threading.Thread(target=read, daemon=True).start()
        result = docker(engine, "run", "--rm", "busybox", "sh", "-c", "exit 3")
        assert result.returncode == 3
        events = []
        while not events or events[-1][0] != "/containers/delete":
            envelope = seen.get(timeout=10)
            events.append((envelope.topic, json.loads(envelope.event)))
        stream.cancel()
    topics = [topic for topic, _ in events]
    assert topics == ["/containers/create", "/tasks/create", "/tasks/start", "/tasks/exit",
                      "/tasks/delete", "/containers/delete"], topics
    ids = {event["id"] for _, event in events}
    assert len(ids) == 1
    assert dict(events)["/tasks/exit"]["exit_status"] == 3


def test_update_replaces_a_container_s_spec(engine: Engine) -> None:
    with channel(engine) as ch:
        containers = rpc.ContainersStub(ch)
        c = pb.Container(id="wb-update-test", spec=b'{"ociVersion": "1.0.2"}')
        containers.Create(c, metadata=METADATA)
        try:
            c.spec = b'{"ociVersion": "1.0.2", "hostname": "changed"}'
            c.labels["who"] = "test"
            containers.Update(c, metadata=METADATA)
            got = containers.Get(pb.ContainerRequest(id=c.id), metadata=METADATA)
            assert json.loads(got.spec)["hostname"] == "changed"
            assert dict(got.labels) == {"who": "test"}
        finally:
            containers.Delete(pb.ContainerRequest(id=c.id), metadata=METADATA)
        with pytest.raises(grpc.RpcError) as e:
            containers.Update(c, metadata=METADATA)
        assert e.value.code() == grpc.StatusCode.NOT_FOUND
