"""Stage 3's executor: the daemon asks containerd, over gRPC, and makes nothing itself.

Every call names the container and carries the `containerd-namespace` metadata.
Exits are not waited for one call per container: the executor reads containerd's
event stream once, for all of them, as dockerd's libcontainerd does (task_exits.py).
The engine's waiter thread still calls `wait()`, which sleeps until that stream (or,
after containerd restarted, a Tasks.State/Wait reconciliation) reports the exit.
"""

from __future__ import annotations

import json
import time
from typing import Any

import grpc

from shared import trace
from shared.daemon.executor import (
    ExecutorError,
    ExitStatus,
    IOConfig,
    NotFoundError,
    start_error,
)
from stages.stage3_containerd.proto import containerd_pb2 as pb
from stages.stage3_containerd.proto import containerd_pb2_grpc as rpc
from stages.stage3_containerd.task_exits import TaskExits

NAMESPACE = "whalebones"
READY_TIMEOUT = 3.0  # seconds a call waits for an unreachable containerd to come back
START_TIMEOUT = 30.0  # ...and, at the daemon's start, for a containerd that is starting


def rpc_name(method: Any) -> str:
    """`Tasks.Create` from a stub's method (gRPC names it /package.Tasks/Create)."""
    path = getattr(method, "_method", b"").decode()
    service, _, name = path.rpartition("/")
    return f"{service.rpartition('.')[2]}.{name}"


class Unavailable(ExecutorError):
    """containerd does not answer (down, or restarting)."""


class ContainerdExecutor:
    name = "containerd"
    makes_network_links = False
    # containerd, not the daemon, is the containers' parent and holds their FIFOs open.
    containers_outlive_daemon = True
    containers_outlive_containerd = False  # stage 4's shims change that

    def __init__(self, address: str, namespace: str = NAMESPACE) -> None:
        self.address = address
        # gRPC backs off between reconnection attempts, up to two minutes by default:
        # a containerd that restarts should be found again within a second.
        self.channel = grpc.insecure_channel(
            address,
            options=[
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.min_reconnect_backoff_ms", 100),
                ("grpc.max_reconnect_backoff_ms", 1000),
            ],
        )
        self.containers = rpc.ContainersStub(self.channel)
        self.tasks = rpc.TasksStub(self.channel)
        self.metadata = (("containerd-namespace", namespace),)
        self.exits = TaskExits(self.channel, self.metadata, namespace, self._reconcile,
                               gone_with_containerd=not self.containers_outlive_containerd,
                               unavailable=lambda: Unavailable(
                                   f"wait: containerd at {address} is unavailable"))

    def _call(
        self,
        method: Any,  # a stub's method
        request: Any,
        what: str,
        wait_for_ready: bool = False,
        ready_timeout: float = READY_TIMEOUT,
    ) -> Any:
        # Only Wait waits for containerd to be (back) up for as long as it takes; every
        # other call gives it a few seconds (a containerd that is restarting) and then
        # fails with "unavailable", rather than hang the API.
        try:
            try:
                with trace.span("daemon", "call", rpc_name(method), "containerd"):
                    return method(request, metadata=self.metadata, wait_for_ready=wait_for_ready)
            except grpc.RpcError as e:
                if wait_for_ready or e.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                return method(
                    request, metadata=self.metadata, wait_for_ready=True, timeout=ready_timeout
                )
        except grpc.RpcError as e:
            code, details = e.code(), e.details()
            if code == grpc.StatusCode.DEADLINE_EXCEEDED and not wait_for_ready:
                code = grpc.StatusCode.UNAVAILABLE
            if code == grpc.StatusCode.NOT_FOUND:
                raise NotFoundError(details) from None
            if code == grpc.StatusCode.UNAVAILABLE:
                raise Unavailable(f"{what}: containerd at {self.address} is unavailable") from None
            raise start_error(details or f"{what}: {code.name}") from None

    def create(self, cid: str, spec: dict, io: IOConfig) -> int:
        self.exits.watch(cid)  # before it can run: its exit, however soon, is kept
        self._call(
            self.containers.Create,
            pb.Container(id=cid, spec=json.dumps(spec).encode()),
            "create container",
        )
        try:
            reply = self._call(
                self.tasks.Create,
                pb.CreateTaskRequest(
                    id=cid,
                    stdin=io.stdin or "",
                    stdout=io.stdout,
                    stderr=io.stderr or "",
                    terminal=io.terminal,
                ),
                "create task",
            )
        except ExecutorError:
            self.exits.forget(cid)
            self._quiet(self.containers.Delete, pb.ContainerRequest(id=cid))
            raise
        return reply.pid

    def start(self, cid: str) -> None:
        self._call(self.tasks.Start, pb.TaskRequest(id=cid), "start")

    def wait(self, cid: str, exec_id: str | None = None) -> ExitStatus:
        if not exec_id:
            return self.exits.wait(cid)  # the container's own exit: from the event stream
        # An exec's exit is still waited for with a Tasks.Wait of its own: stage 4's
        # containerd publishes only its tasks' init exits.
        request = pb.TaskRequest(id=cid, exec_id=exec_id)
        while True:
            try:
                r = self._call(self.tasks.Wait, request, "wait", wait_for_ready=True)
                break
            except Unavailable:
                # containerd went away in the middle of the wait. In stage 3 the
                # container went with it; from stage 4 on it lives on in its shim, and
                # the next containerd will answer for it: wait for that one.
                if not self.containers_outlive_containerd:
                    raise
                time.sleep(0.2)
        return ExitStatus(code=r.exit_status, exited_at=r.exited_at, oom_killed=r.oom_killed)

    def _reconcile(self, cid: str) -> ExitStatus | None:
        """After the event stream was down: has this task stopped meanwhile? If so,
        Tasks.Wait answers at once with its status (containerd keeps it until Delete)."""
        state = self._call(self.tasks.State, pb.TaskRequest(id=cid), "state")
        if state.status != "stopped":
            return None
        r = self._call(self.tasks.Wait, pb.TaskRequest(id=cid), "wait")
        return ExitStatus(code=r.exit_status, exited_at=r.exited_at, oom_killed=r.oom_killed)

    def kill(self, cid: str, signal: int, all: bool = False, exec_id: str | None = None) -> None:
        self._call(
            self.tasks.Kill,
            pb.KillRequest(id=cid, exec_id=exec_id or "", signal=signal, all=all),
            "kill",
        )

    def pause(self, cid: str) -> None:
        self._call(self.tasks.Pause, pb.TaskRequest(id=cid), "pause")

    def metrics(self, cid: str, pid: int) -> dict:
        reply = self._call(self.tasks.Metrics, pb.TaskRequest(id=cid), "metrics")
        found: dict = json.loads(reply.metrics)
        return found

    def update(self, cid: str, resources: dict) -> None:
        self._call(self.tasks.Update,
                   pb.UpdateTaskRequest(id=cid, resources=json.dumps(resources).encode()),
                   "update")

    def resume(self, cid: str) -> None:
        self._call(self.tasks.Resume, pb.TaskRequest(id=cid), "resume")

    def exec(self, cid: str, exec_id: str, process: dict, io: IOConfig) -> int:
        reply = self._call(
            self.tasks.Exec,
            pb.ExecRequest(
                id=cid,
                exec_id=exec_id,
                process=json.dumps(process).encode(),
                stdin=io.stdin or "",
                stdout=io.stdout,
                stderr=io.stderr or "",
                terminal=io.terminal,
            ),
            "exec",
        )
        return reply.pid

    def close_io(self, cid: str, exec_id: str | None = None) -> None:
        self._call(self.tasks.CloseIO, pb.TaskRequest(id=cid, exec_id=exec_id or ""), "close io")

    def restore(self, cid: str) -> int:
        # A daemon and a containerd started together: give containerd time to listen
        # before deciding that a container is gone.
        request = pb.TaskRequest(id=cid)
        return self._call(self.tasks.State, request, "restore", ready_timeout=START_TIMEOUT).pid

    def resize(self, cid: str, exec_id: str | None, height: int, width: int) -> None:
        self._call(
            self.tasks.ResizePty,
            pb.ResizeRequest(id=cid, exec_id=exec_id or "", height=height, width=width),
            "resize",
        )

    def pids(self, cid: str) -> list[int]:
        return list(self._call(self.tasks.Pids, pb.TaskRequest(id=cid), "pids").pids)

    def delete(self, cid: str) -> None:
        self.exits.forget(cid)
        self._quiet(self.tasks.Delete, pb.TaskRequest(id=cid))
        self._quiet(self.containers.Delete, pb.ContainerRequest(id=cid))

    def _quiet(self, method: Any, request: Any) -> None:  # as _call's
        try:
            self._call(method, request, "delete")
        except NotFoundError:
            pass

    def close(self) -> None:
        self.exits.close()
        self.channel.close()
