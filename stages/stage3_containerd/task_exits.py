"""How the daemon hears of its containers' exits: one subscription to containerd's events.

Why subscribe rather than wait: a Tasks.Wait per container is a call held open per
container, in the daemon and in containerd (a thread each, in Python), for as long as
the container runs. dockerd's libcontainerd does not wait: it opens ONE Events stream
(topics /tasks/*) and reads TaskExit and TaskOOM from it for all its containers
(moby's libcontainerd/remote/client.go, processEventStream). This module is that
stream's reader: each `Watch` is a container whose exit someone will want, and the
reader completes it when `/tasks/exit` names it.

What a stream cannot promise is that nothing happened while it was not there. When it
breaks (containerd restarted), the reader subscribes again and then *reconciles*: it
asks Tasks.State about every container still watched, and for one that stopped in the
meantime it takes the exit status with Tasks.Wait (which answers at once for a stopped
task). That is what dockerd does for its containers when it restores them. The order
matters: first subscribed, then asked; an exit is then either in the stream or in
State's answer, never in neither.

In stage 3 containerd is the containers' parent: when the stream breaks they died with
it, and every watch ends at once with "unavailable", as the held Wait used to.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from shared.daemon.executor import ExecutorError, ExitStatus, NotFoundError
from stages.stage3_containerd.proto import containerd_pb2 as pb
from stages.stage3_containerd.proto import containerd_pb2_grpc as rpc

log = logging.getLogger("whalebones")


@dataclass
class Watch:
    """One container whose exit is awaited."""

    done: threading.Event = field(default_factory=threading.Event)
    status: ExitStatus | None = None
    error: ExecutorError | None = None
    oom: bool = False  # a /tasks/oom came (containerd's TaskOOM)


class TaskExits:
    """The reader of containerd's event stream, for the init processes' exits.

    `reconcile(cid)` is the executor's: State then, if stopped, Wait; it returns the
    exit status or None (still running), and raises NotFoundError for a task that is
    gone. `gone_with_containerd` is True in stage 3 (see the module's docstring)."""

    def __init__(self, channel: grpc.Channel, metadata: tuple[tuple[str, str], ...],
                 namespace: str, reconcile: Callable[[str], ExitStatus | None],
                 gone_with_containerd: bool, unavailable: Callable[[], ExecutorError]) -> None:
        self.events = rpc.EventsStub(channel)
        self.metadata = metadata
        self.namespace = namespace
        self._reconcile = reconcile
        self.gone_with_containerd = gone_with_containerd
        self._unavailable = unavailable
        self._lock = threading.Lock()
        self._watches: dict[str, Watch] = {}
        self._subscribed = False  # a stream is open and containerd has our queue
        self._closed = False
        self._call: grpc.Future | None = None
        threading.Thread(target=self._read, name="containerd-events", daemon=True).start()

    # ------------------------------------------------------------ the executor's side

    def watch(self, cid: str) -> None:
        """From now on an exit of `cid` is kept until `wait` takes it. Made before the
        task starts: an exit that comes at once is not missed."""
        with self._lock:
            w = self._watches.get(cid)
            if w is None or w.done.is_set():  # a new run of the same container
                self._watches[cid] = Watch()

    def forget(self, cid: str) -> None:
        with self._lock:
            self._watches.pop(cid, None)

    def wait(self, cid: str) -> ExitStatus:
        with self._lock:
            known = cid in self._watches
            w = self._watches.setdefault(cid, Watch())
            subscribed = self._subscribed
        if not known and subscribed:
            # A container this daemon did not start (restored after a daemon restart):
            # its exit may have come before we listened. If the stream is not up yet,
            # the reader reconciles it once it is.
            self._check(cid, w)
        w.done.wait()
        self.forget(cid)
        if w.error is not None:
            raise w.error
        assert w.status is not None
        return w.status

    def close(self) -> None:
        self._closed = True
        if self._call is not None:
            self._call.cancel()

    # ------------------------------------------------------------ the reader's side

    def _read(self) -> None:
        while not self._closed:
            call = self.events.Subscribe(pb.SubscribeRequest(), metadata=self.metadata,
                                         wait_for_ready=True)
            self._call = call
            try:
                call.initial_metadata()  # containerd sends it once our queue is in place
                if self._closed:
                    return  # the daemon is stopping: its channel is closed
                self._on_subscribed()
                for envelope in call:
                    self._on_event(envelope)
            except grpc.RpcError:
                pass
            with self._lock:
                self._subscribed = False
            if self._closed:
                return
            log.warning("containerd's event stream broke; subscribing again")
            if self.gone_with_containerd:
                self._fail_all(self._unavailable())
            time.sleep(0.1)

    def _on_subscribed(self) -> None:
        with self._lock:
            self._subscribed = True
            pending = [(cid, w) for cid, w in self._watches.items() if not w.done.is_set()]
        for cid, w in pending:
            self._check(cid, w)

    def _check(self, cid: str, w: Watch) -> None:
        """Reconcile one watch: did its task stop while nobody listened?"""
        try:
            status = self._reconcile(cid)
        except NotFoundError as e:
            self._finish(w, error=e)
            return
        except ExecutorError:
            return  # containerd went again: the next subscription asks again
        if status is not None:
            self._finish(w, status=status)

    def _on_event(self, envelope: pb.Envelope) -> None:
        if envelope.namespace != self.namespace:
            return
        if envelope.topic not in ("/tasks/exit", "/tasks/oom"):
            return
        event = json.loads(envelope.event)
        with self._lock:
            w = self._watches.get(event.get("id", ""))
        if w is None or w.done.is_set():
            return
        if envelope.topic == "/tasks/oom":
            w.oom = True  # containerd reports the OOM kill before the exit it causes
        elif not event.get("exec_id"):  # the init's exit; an exec's is waited for apart
            self._finish(w, status=ExitStatus(
                code=event.get("exit_status", 0),
                exited_at=event.get("exited_at") or envelope.timestamp,
                oom_killed=w.oom))

    def _finish(self, w: Watch, status: ExitStatus | None = None,
                error: ExecutorError | None = None) -> None:
        with self._lock:
            if w.done.is_set():
                return
            w.status, w.error = status, error
            w.done.set()

    def _fail_all(self, error: ExecutorError) -> None:
        with self._lock:
            watches = list(self._watches.values())
        for w in watches:
            self._finish(w, error=error)
