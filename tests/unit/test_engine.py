"""Unit tests of the daemon core with the FAKE chroot executor (no namespaces).

They prove the engine's own rules (names, lifecycle states, wait conditions, logs,
errors) apart from any era's executor. The behaviour suite proves the same through
real containers on every stage.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import threading
import time

import pytest

from shared import errors
from shared.daemon import logs
from shared.daemon.engine import Engine
from shared.daemon.lifecycle import parse_signal
from shared.images.busybox import build_busybox
from shared.images.store import ImageStore
from tests.images import tarballs
from tests.unit.fake_executor import FakeExecutor

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="overlay mounts need root")


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> ImageStore:
    store = ImageStore(str(tmp_path_factory.mktemp("images")))
    build_busybox(store)
    return store


@pytest.fixture
def engine(tmp_path, images):
    e = Engine(FakeExecutor(), str(tmp_path / "root"), str(tmp_path / "run"), "fake", images)
    yield e
    for c in e.containers.all():
        e.remove(c.id, force=True)
    e.shutdown()
    shutil.rmtree(tmp_path, ignore_errors=True)


def run(engine: Engine, cmd: list[str], **extra) -> tuple[int, list[logs.Entry]]:
    c = engine.create(None, {"Image": "busybox", "Cmd": cmd, **extra})
    engine.start(c.id)
    done = engine.wait(c.id, "not-running")
    return done.state.exit_code, list(logs.read(engine.log_path(c), {"stdout", "stderr"}))


def test_exit_code_and_both_streams_reach_the_log(engine) -> None:
    code, entries = run(engine, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert code == 3
    assert {(e.stream, e.data) for e in entries} == {("stdout", b"out\n"), ("stderr", b"err\n")}


def test_names_are_unique_and_checked(engine) -> None:
    engine.create("web", {"Image": "busybox"})
    with pytest.raises(errors.Conflict, match='The container name "/web" is already in use'):
        engine.create("web", {"Image": "busybox"})
    with pytest.raises(errors.InvalidParameter, match="Invalid container name"):
        engine.create("bad name!", {"Image": "busybox"})
    assert [c.name for c in engine.containers.all()] == ["web"]


def test_unknown_image_creates_nothing(engine) -> None:
    with pytest.raises(errors.NotFound, match="No such image: nosuch:latest"):
        engine.create(None, {"Image": "nosuch"})
    assert engine.containers.all() == []
    assert os.listdir(engine.containers.root) == []


def test_lookup_by_name_id_and_prefix(engine) -> None:
    c = engine.create("named", {"Image": "busybox"})
    assert engine.containers.get("named") is c
    assert engine.containers.get("/named") is c
    assert engine.containers.get(c.id[:6]) is c
    with pytest.raises(errors.NoSuchContainer, match="No such container: zzz"):
        engine.containers.get("zzz")


def test_running_container_needs_force_to_remove(engine) -> None:
    c = engine.create(None, {"Image": "busybox", "Cmd": ["sleep", "30"]})
    engine.start(c.id)
    with pytest.raises(errors.Conflict, match="You cannot remove a running container"):
        engine.remove(c.id)
    engine.remove(c.id, force=True)
    with pytest.raises(errors.NoSuchContainer):
        engine.containers.get(c.id)
    assert not os.path.exists(engine.containers.dir(c.id))


def test_stop_of_stopped_container_is_not_modified(engine) -> None:
    c = engine.create(None, {"Image": "busybox", "Cmd": ["true"]})
    with pytest.raises(errors.NotModified):
        engine.stop(c.id)


def test_wait_removed_returns_after_auto_remove(engine) -> None:
    c = engine.create(None, {"Image": "busybox", "Cmd": ["sh", "-c", "exit 5"],
                             "HostConfig": {"AutoRemove": True}})
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(c=engine.wait(c.id, "removed")))
    t.start()
    engine.start(c.id)
    t.join(10)
    assert result["c"].state.exit_code == 5
    assert engine.containers.all() == []


class CountingExecutor(FakeExecutor):
    """The fake executor, noting each delete it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.deletes: list[str] = []

    def delete(self, cid: str) -> None:
        self.deletes.append(cid)
        super().delete(cid)


def test_run_rm_asks_the_executor_to_delete_once(tmp_path, images) -> None:
    """The exit releases what the executor holds; the removal that follows asks for
    nothing more (on stages 3-4 each delete is gRPC calls on `run --rm`'s path)."""
    executor = CountingExecutor()
    e = Engine(executor, str(tmp_path / "root"), str(tmp_path / "run"), "fake", images)
    try:
        c = e.create(None, {"Image": "busybox", "Cmd": ["true"],
                            "HostConfig": {"AutoRemove": True}})
        waiter = threading.Thread(target=e.wait, args=(c.id, "removed"))
        waiter.start()
        e.start(c.id)
        waiter.join(10)
        assert e.containers.all() == []
        assert executor.deletes == [c.id]
    finally:
        e.shutdown()


def test_kill_with_signal_names_and_numbers() -> None:
    assert parse_signal("KILL") == parse_signal("SIGKILL") == parse_signal("9") == signal.SIGKILL
    assert parse_signal(None) == signal.SIGKILL
    with pytest.raises(errors.InvalidParameter, match="Invalid signal: NOPE"):
        parse_signal("NOPE")


def test_restart_keeps_the_id_and_the_log(engine) -> None:
    c = engine.create(None, {"Image": "busybox", "Cmd": ["echo", "again"]})
    engine.start(c.id)
    engine.wait(c.id)
    engine.restart(c.id)
    engine.wait(c.id, "not-running")
    entries = list(logs.read(engine.log_path(c), {"stdout"}))
    assert [e.data for e in entries] == [b"again\n", b"again\n"]
    assert c.restart_count == 0  # a new start, as dockerd resets it


def _blocked_on(lock_file: str) -> bool:
    """Whether some thread waits for a flock on this file (/proc/locks shows waiters
    with "->" and the file as major:minor:inode)."""
    inode = os.stat(lock_file).st_ino
    with open("/proc/locks") as f:
        return any("->" in line and line.split()[-3].endswith(f":{inode}") for line in f)


def test_a_kill_is_answered_while_an_image_unpacks(engine, images) -> None:
    """Unpacking a big image's layers is done outside the engine's lock: while one
    create waits for its layers, another container can still be killed. The test holds
    the layer's own lock (the store's flock) to keep the unpack from finishing."""
    manifest, config, blobs = tarballs.image(tarballs.layer(tarballs.Entry("big", data=b"x")))
    slow = images.add_image(manifest, config, blobs, ["slow:latest"])
    lock_file = os.path.join(images.locks, f"layer-{slow.layers[0].removeprefix('sha256:')}.lock")
    sleeper = engine.create(None, {"Image": "busybox", "Cmd": ["sleep", "30"]})
    engine.start(sleeper.id)
    created: dict = {}
    with open(lock_file, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        creating = threading.Thread(
            target=lambda: created.update(c=engine.create("slow", {"Image": "slow"})))
        creating.start()
        deadline = time.monotonic() + 10
        while not _blocked_on(lock_file):
            assert time.monotonic() < deadline, "create never reached the layer's lock"
            time.sleep(0.01)
        killing = threading.Thread(target=engine.kill, args=(sleeper.id, "KILL"))
        killing.start()
        killing.join(10)
        assert not killing.is_alive(), "kill waited for another container's unpack"
        assert sleeper.state.status == "exited"
        assert creating.is_alive() and not created
    creating.join(10)  # the lock is released: the unpack and the create finish
    assert created["c"].name == "slow"
