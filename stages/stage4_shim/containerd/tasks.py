"""Stage 4's Tasks service: the same gRPC API as stage 3, each task in a shim.

What changed from stage 3's tasks.py: containerd no longer runs the runtime or waits
for anyone. For each task it writes the bundle, starts a `whalebones-shim` and passes
every call on to it. It is nobody's parent, so it is not a subreaper any more, and
when it stops (or dies) its containers do not notice. A new containerd finds its
shims again from their bundles (`_restore`).

A shim that dies is a container nobody watches any more: containerd notices (a call
fails, or the shim's Wait hangs up), runs `runtime delete --force` so that nothing of
the container is left, and reports the exit as the shim recorded it, or as 137 (what
the real containerd reports for a dead shim, as if SIGKILLed).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import grpc

from stages.stage3_containerd.containerd.containers import ContainerStore
from stages.stage3_containerd.containerd.events import Exchange
from stages.stage3_containerd.containerd.process import Exit
from stages.stage3_containerd.containerd.runtime import Runtime, RuntimeError_, delete_leftovers
from stages.stage3_containerd.containerd.server import namespace
from stages.stage3_containerd.containerd.tasks import exit_status, oom_check, write_bundle
from stages.stage3_containerd.proto import containerd_pb2 as pb
from stages.stage3_containerd.proto import containerd_pb2_grpc as rpc
from stages.stage4_shim.containerd.shims import (
    ShimClient,
    ShimError,
    ShimGone,
    find_shim,
    start_shim,
)
from stages.stage4_shim.shim.server import read_exit

log = logging.getLogger("containerd")
SHIM_DIED = 137  # 128 + SIGKILL, as the real containerd reports a dead shim's task

CODES = {
    "not_found": grpc.StatusCode.NOT_FOUND,
    "already_exists": grpc.StatusCode.ALREADY_EXISTS,
    "bad_request": grpc.StatusCode.INVALID_ARGUMENT,
}


class ShimTask:
    """containerd's record of one task: where its shim is, and if the shim died, how
    the task ended."""

    def __init__(self, ns: str, cid: str, bundle: str, spec: dict, shim: ShimClient) -> None:
        self.ns, self.id, self.bundle, self.spec, self.shim = ns, cid, bundle, spec, shim
        self.dead: Exit | None = None  # the shim died: how the task ended
        self.exit: Exit | None = None  # the init's exit, once the shim has reported it
        self.exited = threading.Event()
        self.lock = threading.Lock()

    @property
    def log(self) -> str:
        return os.path.join(self.bundle, "log.json")


def to_exit(result: object) -> Exit | None:
    if not isinstance(result, dict):
        return None
    return Exit(result["status"], result["exited_at"])


class TasksService(rpc.TasksServicer):
    def __init__(self, store: ContainerStore, state: str, runtime: str, events: Exchange) -> None:
        self.store = store
        self.events = events
        self.state = state
        self.runtime_binary = runtime
        self.runtime_root = os.path.join(state, "runtime")
        self.runtime = Runtime(runtime, self.runtime_root)  # only to clean up after a dead shim
        self.sockets = os.path.join(state, "s")  # short paths: sockets have 108 bytes
        os.makedirs(self.sockets, mode=0o700, exist_ok=True)
        self._tasks: dict[tuple[str, str], ShimTask | None] = {}  # None: its shim is starting
        self._lock = threading.Lock()
        self._restore()
        self._end_strays()

    # ------------------------------------------------------------ helpers

    def _end_strays(self) -> None:
        """After _restore: end what no adopted task accounts for (a bundle gone, or a
        restore that adopted nothing). A shim still listening is told to shut down (it
        kills and deletes its container, then exits); then whatever is left in the
        runtime's root is deleted, or its cgroup would outlive it (delete_leftovers)."""
        adopted = {task.shim.address for task in self._tasks.values() if task is not None}
        for name in os.listdir(self.sockets):
            address = os.path.join(self.sockets, name)
            if address in adopted:
                continue
            try:
                ShimClient(address).call("shutdown", timeout=10)
                log.warning("shut down the shim at %s: no bundle of ours has it", address)
            except (ShimGone, ShimError):
                pass  # dead already
            with contextlib.suppress(FileNotFoundError):
                os.unlink(address)
        ids = {cid for _, cid in self._tasks}
        for cid in delete_leftovers(self.runtime, ids, os.path.join(self.state, "runtime.log")):
            log.warning("deleted %s: in the runtime's root, but no shim of ours has it", cid)

    def _restore(self) -> None:
        """After a restart: every bundle with a shim address is a task to adopt."""
        for ns in sorted(os.listdir(self.state)):
            directory = os.path.join(self.state, ns)
            if ns in ("s", "runtime") or not os.path.isdir(directory):
                continue
            for cid in sorted(os.listdir(directory)):
                bundle = os.path.join(directory, cid)
                shim = find_shim(bundle)
                try:
                    with open(os.path.join(bundle, "config.json")) as f:
                        spec = json.load(f)
                except (OSError, ValueError):
                    spec = None
                if shim is None or spec is None:
                    shutil.rmtree(bundle, ignore_errors=True)  # a create that never finished
                    continue
                task = ShimTask(ns, cid, bundle, spec, shim)
                self._tasks[(ns, cid)] = task
                try:
                    state = shim.call("state", timeout=5)
                    log.info("restored task %s (shim at %s)", cid, shim.address)
                except (ShimGone, ShimError):
                    # The shim died while we were away: its exit file, if the container
                    # exited first, says how it ended; a Wait must not hang on it.
                    self._report_exit(task, self._shim_died(task))
                    continue
                if isinstance(state, dict) and state["status"] != "created":
                    self._monitor(task)

    def _monitor(self, task: ShimTask) -> None:
        """One thread per task waits on its shim for the init's exit, and publishes it.
        A shim that hangs up instead is dead: the task ends there (see _shim_died)."""

        def wait() -> None:
            try:
                e = to_exit(task.shim.call("wait", timeout=None))
            except (ShimGone, ShimError):
                e = self._shim_died(task)
            if e is not None and task.dead is None:
                e.oom_killed = oom_check(task.spec)()  # the cgroup is there until Delete
                if e.oom_killed:
                    self.events.publish(task.ns, "/tasks/oom", id=task.id)
            self._report_exit(task, e)

        threading.Thread(target=wait, name=f"monitor-{task.id[:12]}", daemon=True).start()

    def _report_exit(self, task: ShimTask, e: Exit | None) -> None:
        """The init's exit, to whoever Waits and to the events' subscribers."""
        task.exit = e
        task.exited.set()
        self.events.publish(task.ns, "/tasks/exit", id=task.id, exec_id="",
                            exit_status=e.status if e else 0,
                            exited_at=e.exited_at if e else time.time())

    def _task(self, context: grpc.ServicerContext, cid: str) -> ShimTask:
        with self._lock:
            task = self._tasks.get((namespace(context), cid))
        if task is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"task {cid}: not found")
        return task

    @contextmanager
    def _shim_errors(self, context: grpc.ServicerContext, task: ShimTask) -> Iterator[None]:
        try:
            yield
        except ShimError as e:
            context.abort(CODES.get(e.code, grpc.StatusCode.FAILED_PRECONDITION), str(e))
        except ShimGone as e:
            self._shim_died(task)
            context.abort(grpc.StatusCode.NOT_FOUND, f"task {task.id}: its shim is gone ({e})")

    def _shim_died(self, task: ShimTask) -> Exit:
        """Nothing watches the container any more: end it, and say how it ended."""
        with task.lock:
            if task.dead is None:
                try:
                    self.runtime.delete(task.id, task.log)  # --force: kills what is left
                except RuntimeError_:
                    pass
                task.dead = read_exit(task.bundle) or Exit(SHIM_DIED, time.time())
                log.warning("shim of %s is gone; task ended with %d", task.id, task.dead.status)
            return task.dead

    # ------------------------------------------------------------ the verbs

    def Create(
        self, request: pb.CreateTaskRequest, context: grpc.ServicerContext
    ) -> pb.TaskResponse:
        ns, cid = namespace(context), request.id
        container = self.store.get(ns, cid)
        if container is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"container {cid}: not found")
        spec = json.loads(container.spec)
        bundle = os.path.join(self.state, ns, cid)
        with self._lock:
            if (ns, cid) in self._tasks:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"task {cid}: already exists")
            self._tasks[(ns, cid)] = None  # reserved: a second Create is refused
        shim = None
        try:
            write_bundle(bundle, spec)
            address = os.path.join(self.sockets, f"{cid[:24]}.sock")
            shim = start_shim(ns, cid, bundle, address, self.runtime_binary, self.runtime_root)
            pid = shim.call(
                "create",
                stdin=request.stdin,
                stdout=request.stdout,
                stderr=request.stderr,
                terminal=request.terminal,
            )
        except (ShimError, ShimGone, OSError) as e:
            if shim is not None:
                try:
                    shim.call("shutdown", timeout=10)
                except (ShimError, ShimGone):
                    pass
            with self._lock:
                del self._tasks[(ns, cid)]
            shutil.rmtree(bundle, ignore_errors=True)
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(e))
        with self._lock:
            self._tasks[(ns, cid)] = ShimTask(ns, cid, bundle, spec, shim)
        self.events.publish(ns, "/tasks/create", id=cid, pid=pid)
        assert isinstance(pid, int)
        return pb.TaskResponse(pid=pid)

    def Start(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        task = self._task(context, request.id)
        with self._shim_errors(context, task):
            task.shim.call("start")
        self.events.publish(task.ns, "/tasks/start", id=task.id)
        self._monitor(task)  # after: its exit event comes after the start event
        return pb.Empty()

    def Wait(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.ExitStatus:
        task = self._task(context, request.id)
        if not request.exec_id:
            task.exited.wait()  # set by the task's monitor (see _monitor)
            return exit_status(task.exit)
        if task.dead is not None:
            return exit_status(task.dead)
        try:
            e = to_exit(task.shim.call("wait", timeout=None, exec_id=request.exec_id))
        except ShimGone:
            e = self._shim_died(task)
        except ShimError as err:
            context.abort(CODES.get(err.code, grpc.StatusCode.FAILED_PRECONDITION), str(err))
        return exit_status(e)

    def Kill(self, request: pb.KillRequest, context: grpc.ServicerContext) -> pb.Empty:
        task = self._task(context, request.id)
        if task.dead is not None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"process {task.id}: already exited")
        with self._shim_errors(context, task):
            task.shim.call("kill", exec_id=request.exec_id, signal=request.signal, all=request.all)
        return pb.Empty()

    def Pause(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        return self._freeze("pause", "/tasks/paused", request, context)

    def Resume(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        return self._freeze("resume", "/tasks/resumed", request, context)

    def Metrics(self, request: pb.TaskRequest, context: grpc.ServicerContext
                ) -> pb.MetricsResponse:
        """The shim reads its container's cgroup (containerd asks it, as the real one
        asks its shims over ttrpc)."""
        task = self._task(context, request.id)
        with self._shim_errors(context, task):
            found = task.shim.call("metrics")
        return pb.MetricsResponse(metrics=json.dumps(found).encode())

    def Update(self, request: pb.UpdateTaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        task = self._task(context, request.id)
        if task.dead is not None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"update {task.id}: already exited")
        with self._shim_errors(context, task):
            task.shim.call("update", resources=request.resources.decode())
        return pb.Empty()

    def _freeze(self, method: str, topic: str, request: pb.TaskRequest,
                context: grpc.ServicerContext) -> pb.Empty:
        task = self._task(context, request.id)
        if task.dead is not None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"{method} {task.id}: already exited")
        with self._shim_errors(context, task):
            task.shim.call(method)
        self.events.publish(namespace(context), topic, id=request.id)
        return pb.Empty()

    def Exec(self, request: pb.ExecRequest, context: grpc.ServicerContext) -> pb.TaskResponse:
        task = self._task(context, request.id)
        with self._shim_errors(context, task):
            pid = task.shim.call(
                "exec",
                exec_id=request.exec_id,
                process=request.process.decode(),
                stdin=request.stdin,
                stdout=request.stdout,
                stderr=request.stderr,
                terminal=request.terminal,
            )
        self.events.publish(
            task.ns, "/tasks/exec-added", id=task.id, exec_id=request.exec_id, pid=pid
        )
        assert isinstance(pid, int)
        return pb.TaskResponse(pid=pid)

    def ResizePty(self, request: pb.ResizeRequest, context: grpc.ServicerContext) -> pb.Empty:
        task = self._task(context, request.id)
        with self._shim_errors(context, task):
            task.shim.call(
                "resize", exec_id=request.exec_id, height=request.height, width=request.width
            )
        return pb.Empty()

    def CloseIO(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        task = self._task(context, request.id)
        with self._shim_errors(context, task):
            task.shim.call("close_io", exec_id=request.exec_id)
        return pb.Empty()

    def Pids(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.PidsResponse:
        task = self._task(context, request.id)
        with self._shim_errors(context, task):
            pids = task.shim.call("pids")
            assert isinstance(pids, list)
            return pb.PidsResponse(pids=pids)

    def State(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.StateResponse:
        task = self._task(context, request.id)
        if task.dead is not None:
            return pb.StateResponse(id=task.id, pid=0, status="stopped")
        with self._shim_errors(context, task):
            state = task.shim.call("state")
        assert isinstance(state, dict)
        return pb.StateResponse(id=task.id, pid=state["pid"], status=state["status"])

    def Delete(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.ExitStatus:
        task = self._task(context, request.id)
        if request.exec_id:
            if task.dead is not None:
                return pb.ExitStatus()
            with self._shim_errors(context, task):
                result = task.shim.call("delete_process", exec_id=request.exec_id)
            return exit_status(to_exit(result))
        e: Exit | None
        if task.dead is not None:
            e = task.dead
        else:
            try:
                e = to_exit(task.shim.call("delete"))  # the shim exits after replying
            except ShimGone:
                e = self._shim_died(task)
            except ShimError as err:
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(err))
        with self._lock:
            self._tasks.pop((task.ns, task.id), None)
        shutil.rmtree(task.bundle, ignore_errors=True)
        try:
            os.unlink(task.shim.address)
        except FileNotFoundError:
            pass
        self.events.publish(task.ns, "/tasks/delete", id=task.id)
        return exit_status(e)

    def shutdown(self) -> None:
        """containerd is stopping: its containers live on in their shims."""
