"""containerd's Events stream and Containers.Update, spoken to over gRPC directly
(stage 3 and stage 4: the same API, the tasks in containerd or in shims); and the
daemon as that stream's reader (exits and OOM kills, stages/stage3_containerd/
task_exits.py)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(params=[name for name in ("stage3", "stage4") if name in ENGINES])
def traced(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Path]]:
    """An engine in trace mode (shared/trace.py): every call the daemon makes is a line."""
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("WHALEBONES_TRACE", str(trace))
    with start_engine(request.param) as engine:
        yield engine, trace


def test_the_daemon_hears_exits_and_ooms_from_the_stream_not_from_waits(
        traced: tuple[Engine, Path]) -> None:
    engine, trace = traced
    since = str(time.time())
    assert docker(engine, "run", "--name", "wb-exit3", "busybox", "sh", "-c",
                  "exit 3").returncode == 3
    # tail keeps a "line" in memory until it sees a newline; /dev/zero has none
    assert docker(engine, "run", "--name", "wb-oom", "-m", "16m", "busybox",
                  "tail", "/dev/zero").returncode == 137
    result = docker(engine, "events", "--since", since, "--until", str(time.time()),
                    "--filter", "event=oom", "--filter", "event=die",
                    "--format", "{{json .}}")
    seen = [(e["Actor"]["Attributes"]["name"], e["Action"],
             e["Actor"]["Attributes"].get("exitCode"))
            for e in map(json.loads, result.stdout.splitlines())]
    assert seen == [("wb-exit3", "die", "3"), ("wb-oom", "oom", None),
                    ("wb-oom", "die", "137")], seen
    state = json.loads(docker(engine, "inspect", "wb-oom").stdout)[0]["State"]
    assert (state["OOMKilled"], state["ExitCode"]) == (True, 137)
    # The daemon asked containerd for no exit: it read them all from the event stream.
    calls = [e["what"] for e in map(json.loads, trace.read_text().splitlines())
             if e["component"] == "daemon" and e["kind"] == "call"]
    assert "Tasks.Start" in calls
    assert "Tasks.Wait" not in calls, calls
