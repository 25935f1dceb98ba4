"""The Tasks service: containerd's gRPC face on the tasks it keeps in its own memory.

For each task containerd writes an OCI bundle and hands it to a `Task` (task.py), which
runs `RUNTIME create`, then `start`, and waits for the process as its subreaper parent.
Exit statuses are kept until Delete, so a Wait that comes after the exit still gets it.
In this era every Task lives inside containerd: that is what stage 4 changes.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import grpc

from shared.privatedirs import make_private_dir, private_file
from stages.stage3_containerd.containerd import cgroups
from stages.stage3_containerd.containerd.containers import ContainerStore
from stages.stage3_containerd.containerd.events import Exchange
from stages.stage3_containerd.containerd.process import Exit, Reaper
from stages.stage3_containerd.containerd.runtime import Runtime, delete_leftovers
from stages.stage3_containerd.containerd.server import namespace
from stages.stage3_containerd.containerd.task import (
    AlreadyExists,
    NotFound,
    Stdio,
    Task,
    TaskError,
)
from stages.stage3_containerd.proto import containerd_pb2 as pb
from stages.stage3_containerd.proto import containerd_pb2_grpc as rpc

log = logging.getLogger("containerd")


def oom_check(spec: dict) -> Callable[[], bool]:
    """Whether the kernel's OOM killer fired in the container's cgroup."""
    path = (spec.get("linux") or {}).get("cgroupsPath")

    def oom_killed() -> bool:
        try:
            return cgroups.oom_killed(path) if path else False
        except OSError:
            return False

    return oom_killed


def exit_status(e: Exit | None) -> pb.ExitStatus:
    if e is None:
        return pb.ExitStatus()
    return pb.ExitStatus(exit_status=e.status, exited_at=e.exited_at, oom_killed=e.oom_killed)


@contextmanager
def grpc_errors(context: grpc.ServicerContext) -> Iterator[None]:
    """A task's errors, as gRPC status codes (the executor turns them back)."""
    try:
        yield
    except NotFound as e:
        context.abort(grpc.StatusCode.NOT_FOUND, str(e))
    except AlreadyExists as e:
        context.abort(grpc.StatusCode.ALREADY_EXISTS, str(e))
    except TaskError as e:
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(e))


def publish_exit(events: Exchange, ns: str, cid: str, exec_id: str, e: Exit) -> None:
    if e.oom_killed:
        events.publish(ns, "/tasks/oom", id=cid)
    events.publish(ns, "/tasks/exit", id=cid, exec_id=exec_id, exit_status=e.status,
                   exited_at=e.exited_at)


def write_bundle(bundle: str, spec: dict) -> None:
    """The OCI bundle runc reads: config.json (the container's env among it) is root's."""
    make_private_dir(bundle)
    with private_file(os.path.join(bundle, "config.json")) as f:
        json.dump(spec, f)


class TasksService(rpc.TasksServicer):
    def __init__(self, store: ContainerStore, state: str, runtime: str, events: Exchange) -> None:
        self.store = store
        self.events = events
        self.state = state
        self.reaper = Reaper()
        self.runtime = Runtime(runtime, os.path.join(state, "runtime"), self.reaper.calls)
        self._tasks: dict[tuple[str, str], Task] = {}
        self._lock = threading.Lock()
        # A containerd killed with its containers running left them orphaned: their
        # parent and their terminals died with it, so this era cannot adopt them. End
        # them, so that their processes and cgroups do not outlive every record of them.
        for cid in delete_leftovers(self.runtime, set(), os.path.join(state, "runtime.log")):
            log.warning("deleted %s, left by a containerd that died", cid)

    def _task(self, context: grpc.ServicerContext, cid: str) -> Task:
        with self._lock:
            task = self._tasks.get((namespace(context), cid))
        if task is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"task {cid}: not found")
        return task

    def _spec(self, context: grpc.ServicerContext, cid: str) -> dict:
        container = self.store.get(namespace(context), cid)
        if container is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"container {cid}: not found")
        return json.loads(container.spec)

    def Create(
        self, request: pb.CreateTaskRequest, context: grpc.ServicerContext
    ) -> pb.TaskResponse:
        ns, cid = namespace(context), request.id
        spec = self._spec(context, cid)
        bundle = os.path.join(self.state, ns, cid)
        task = Task(
            cid,
            bundle,
            self.runtime,
            self.reaper,
            self.state,
            oom_check(spec),
            on_exit=lambda exec_id, e: publish_exit(self.events, ns, cid, exec_id, e),
        )
        with self._lock:
            if (ns, cid) in self._tasks:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"task {cid}: already exists")
            self._tasks[(ns, cid)] = task
        io = Stdio(request.stdin, request.stdout, request.stderr, request.terminal)
        try:
            write_bundle(bundle, spec)
            pid = task.create(io)
        except (TaskError, OSError) as e:
            with self._lock:
                del self._tasks[(ns, cid)]
            shutil.rmtree(bundle, ignore_errors=True)
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(e))
        self.events.publish(ns, "/tasks/create", id=cid, pid=pid)
        return pb.TaskResponse(pid=pid)

    def Start(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        with grpc_errors(context):
            self._task(context, request.id).start(
                lambda: self.events.publish(namespace(context), "/tasks/start", id=request.id)
            )
        return pb.Empty()

    def Wait(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.ExitStatus:
        with grpc_errors(context):
            return exit_status(self._task(context, request.id).wait(request.exec_id))

    def Kill(self, request: pb.KillRequest, context: grpc.ServicerContext) -> pb.Empty:
        with grpc_errors(context):
            self._task(context, request.id).kill(request.exec_id, request.signal, request.all)
        return pb.Empty()

    def Pause(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        with grpc_errors(context):
            self._task(context, request.id).pause()
        self.events.publish(namespace(context), "/tasks/paused", id=request.id)
        return pb.Empty()

    def Metrics(self, request: pb.TaskRequest, context: grpc.ServicerContext
                ) -> pb.MetricsResponse:
        with grpc_errors(context):
            found = self._task(context, request.id).metrics()
        return pb.MetricsResponse(metrics=json.dumps(found).encode())

    def Update(self, request: pb.UpdateTaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        with grpc_errors(context):
            self._task(context, request.id).update(request.resources)
        return pb.Empty()

    def Resume(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        with grpc_errors(context):
            self._task(context, request.id).resume()
        self.events.publish(namespace(context), "/tasks/resumed", id=request.id)
        return pb.Empty()

    def Exec(self, request: pb.ExecRequest, context: grpc.ServicerContext) -> pb.TaskResponse:
        io = Stdio(request.stdin, request.stdout, request.stderr, request.terminal)
        with grpc_errors(context):
            pid = self._task(context, request.id).exec(request.exec_id, request.process, io)
        self.events.publish(
            namespace(context), "/tasks/exec-added", id=request.id, exec_id=request.exec_id, pid=pid
        )
        return pb.TaskResponse(pid=pid)

    def ResizePty(self, request: pb.ResizeRequest, context: grpc.ServicerContext) -> pb.Empty:
        with grpc_errors(context):
            task = self._task(context, request.id)
            task.resize(request.exec_id, request.height, request.width)
        return pb.Empty()

    def CloseIO(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        with grpc_errors(context):
            self._task(context, request.id).close_io(request.exec_id)
        return pb.Empty()

    def Pids(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.PidsResponse:
        with grpc_errors(context):
            return pb.PidsResponse(pids=self._task(context, request.id).pids())

    def State(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.StateResponse:
        task = self._task(context, request.id)
        init = task.processes.get("")
        return pb.StateResponse(id=task.id, pid=init.pid if init else 0, status=task.status())

    def Delete(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.ExitStatus:
        task = self._task(context, request.id)
        if request.exec_id:
            return exit_status(task.delete_process(request.exec_id))
        with grpc_errors(context):
            e = task.delete()
        with self._lock:
            self._tasks.pop((namespace(context), task.id), None)
        shutil.rmtree(task.bundle, ignore_errors=True)
        self.events.publish(namespace(context), "/tasks/delete", id=task.id)
        return exit_status(e)

    def shutdown(self) -> None:
        """containerd is stopping. In this era its containers cannot outlive it (it is
        their parent and holds their terminals): kill them, as its death would."""
        with self._lock:
            tasks = list(self._tasks.values())
        for task in tasks:
            task.kill_all()
            shutil.rmtree(task.bundle, ignore_errors=True)
