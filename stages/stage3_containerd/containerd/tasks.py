"""The Tasks service: from a container's spec to a running process, through the runtime.

For each task containerd makes an OCI bundle (a directory with config.json, whose
root.path is the rootfs the daemon mounted), runs `RUNTIME create`, then `start`, and
waits for the process as its subreaper parent. Exit statuses are kept until Delete,
so a Wait that comes after the exit still gets it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading

import grpc

from shared.terminal import copy_terminal
from stages.stage2_libcontainer.libcontainer import cgroups
from stages.stage3_containerd.containerd.containers import ContainerStore
from stages.stage3_containerd.containerd.process import (
    ConsoleSocket,
    Process,
    Reaper,
)
from stages.stage3_containerd.containerd.runtime import (
    Runtime,
    RuntimeError_,
    read_pid,
)
from stages.stage3_containerd.containerd.server import namespace
from stages.stage3_containerd.proto import containerd_pb2 as pb
from stages.stage3_containerd.proto import containerd_pb2_grpc as rpc


def _stdio(stdin: str, stdout: str, stderr: str) -> tuple[int, int, int]:
    """Open the container's ends of the daemon's FIFOs (the daemon holds the others
    open already, so none of these opens blocks)."""
    fd_in = os.open(stdin or os.devnull, os.O_RDONLY)
    fd_out = os.open(stdout, os.O_WRONLY) if stdout else os.open(os.devnull, os.O_WRONLY)
    fd_err = os.open(stderr, os.O_WRONLY) if stderr else os.dup(fd_out)
    return fd_in, fd_out, fd_err


class Task:
    def __init__(self, ns: str, cid: str, bundle: str, spec: dict) -> None:
        self.ns, self.id, self.bundle, self.spec = ns, cid, bundle, spec
        self.processes: dict[str, Process] = {}  # "" is the init
        self.started = False

    @property
    def log(self) -> str:
        return os.path.join(self.bundle, "log.json")

    def oom_killed(self) -> bool:
        path = (self.spec.get("linux") or {}).get("cgroupsPath")
        try:
            return bool(path) and cgroups.manager(path).oom_killed()
        except OSError:
            return False


class TasksService(rpc.TasksServicer):
    def __init__(self, store: ContainerStore, state: str, runtime: str) -> None:
        self.store = store
        self.state = state
        self.reaper = Reaper()
        self.runtime = Runtime(runtime, os.path.join(state, "runtime"), self.reaper.calls)
        self._tasks: dict[tuple[str, str], Task] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ helpers

    def _task(self, context: grpc.ServicerContext, cid: str) -> Task:
        with self._lock:
            task = self._tasks.get((namespace(context), cid))
        if task is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"task {cid}: not found")
        return task

    def _process(self, context: grpc.ServicerContext, task: Task, exec_id: str) -> Process:
        proc = task.processes.get(exec_id)
        if proc is None:
            context.abort(
                grpc.StatusCode.NOT_FOUND, f"process {exec_id or 'init'} of {task.id}: not found"
            )
        return proc

    def _launch(
        self, task: Task, name: str, terminal: bool, stdin: str, stdout: str, stderr: str, run
    ) -> Process:  # type: ignore[no-untyped-def]
        """Run `run(stdio, console_socket_path)`; hook the process's terminal up."""
        proc = Process()
        console = (
            ConsoleSocket(os.path.join(self.state, f"c-{task.id[:12]}-{name}.sock"))
            if terminal
            else None
        )
        stdio = _stdio("", "", "") if terminal else _stdio(stdin, stdout, stderr)
        try:
            run(stdio, console.path if console else None)
            if console is not None:
                proc.master = console.receive()
                proc.copiers = copy_terminal(proc.master, stdin or None, stdout)
        finally:
            for fd in set(stdio):
                os.close(fd)
            if console is not None:
                console.close()
        return proc

    # ------------------------------------------------------------ the verbs

    def Create(
        self, request: pb.CreateTaskRequest, context: grpc.ServicerContext
    ) -> pb.TaskResponse:
        ns = namespace(context)
        container = self.store.get(ns, request.id)
        if container is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"container {request.id}: not found")
        with self._lock:
            if (ns, request.id) in self._tasks:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"task {request.id}: already exists")
            spec = json.loads(container.spec)
            bundle = os.path.join(self.state, ns, request.id)
            task = Task(ns, request.id, bundle, spec)
            self._tasks[(ns, request.id)] = task
        try:
            os.makedirs(bundle, mode=0o711, exist_ok=True)
            with open(os.path.join(bundle, "config.json"), "w") as f:
                json.dump(spec, f)
            pid_file = os.path.join(bundle, "init.pid")
            proc = self._launch(
                task,
                "init",
                request.terminal,
                request.stdin,
                request.stdout,
                request.stderr,
                lambda stdio, console: self.runtime.create(
                    request.id, bundle, pid_file, task.log, stdio, console
                ),
            )
            proc.pid = read_pid(pid_file)
        except (RuntimeError_, OSError) as e:
            with self._lock:
                del self._tasks[(ns, request.id)]
            shutil.rmtree(bundle, ignore_errors=True)
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"create task {request.id}: {e}")
        task.processes[""] = proc
        self.reaper.watched.add(proc.pid)
        proc.watch(task.oom_killed)
        return pb.TaskResponse(pid=proc.pid)

    def Start(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        task = self._task(context, request.id)
        try:
            self.runtime.start(task.id, task.log)
        except RuntimeError_ as e:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(e))
        task.started = True
        return pb.Empty()

    def Wait(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.ExitStatus:
        proc = self._process(context, self._task(context, request.id), request.exec_id)
        proc.exited.wait()
        assert proc.exit is not None
        e = proc.exit
        return pb.ExitStatus(exit_status=e.status, exited_at=e.exited_at, oom_killed=e.oom_killed)

    def Kill(self, request: pb.KillRequest, context: grpc.ServicerContext) -> pb.Empty:
        task = self._task(context, request.id)
        proc = self._process(context, task, request.exec_id)
        if proc.exited.is_set():
            context.abort(grpc.StatusCode.NOT_FOUND, f"process {request.id}: already exited")
        try:
            if request.exec_id:
                os.kill(proc.pid, request.signal)
            else:
                self.runtime.kill(task.id, request.signal, request.all, task.log)
        except (RuntimeError_, ProcessLookupError) as e:
            context.abort(grpc.StatusCode.NOT_FOUND, f"kill {request.id}: {e}")
        return pb.Empty()

    def Exec(self, request: pb.ExecRequest, context: grpc.ServicerContext) -> pb.TaskResponse:
        task = self._task(context, request.id)
        if request.exec_id in task.processes:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, f"exec {request.exec_id}: already exists")
        name = request.exec_id[:16]
        process_file = os.path.join(task.bundle, f"{name}.json")
        pid_file = os.path.join(task.bundle, f"{name}.pid")
        with open(process_file, "wb") as f:
            f.write(request.process)
        try:
            proc = self._launch(
                task,
                name,
                request.terminal,
                request.stdin,
                request.stdout,
                request.stderr,
                lambda stdio, console: self.runtime.exec(
                    task.id, process_file, pid_file, task.log, stdio, console
                ),
            )
            proc.pid = read_pid(pid_file)
        except (RuntimeError_, OSError) as e:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"exec in {request.id}: {e}")
        task.processes[request.exec_id] = proc
        self.reaper.watched.add(proc.pid)
        proc.watch(lambda: False)
        return pb.TaskResponse(pid=proc.pid)

    def ResizePty(self, request: pb.ResizeRequest, context: grpc.ServicerContext) -> pb.Empty:
        proc = self._process(context, self._task(context, request.id), request.exec_id)
        try:
            proc.resize(request.height, request.width)
        except OSError as e:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"resize {request.id}: {e}")
        return pb.Empty()

    def CloseIO(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.Empty:
        # Without a terminal the container reads the daemon's FIFO itself: the daemon
        # closing its end is the EOF. With one, the copy into the pty ends the same way.
        return pb.Empty()

    def Pids(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.PidsResponse:
        task = self._task(context, request.id)
        try:
            return pb.PidsResponse(pids=self.runtime.ps(task.id, task.log))
        except RuntimeError_ as e:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(e))

    def State(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.StateResponse:
        task = self._task(context, request.id)
        proc = task.processes[""]
        status = "stopped" if proc.exited.is_set() else "running" if task.started else "created"
        return pb.StateResponse(id=task.id, pid=proc.pid, status=status)

    def Delete(self, request: pb.TaskRequest, context: grpc.ServicerContext) -> pb.ExitStatus:
        task = self._task(context, request.id)
        if request.exec_id:
            proc = task.processes.pop(request.exec_id, None)
            if proc is not None:
                self.reaper.watched.discard(proc.pid)
            e = proc.exit if proc and proc.exit else None
            return pb.ExitStatus(exit_status=e.status if e else 0)
        init = task.processes.get("")
        try:
            self.runtime.delete(task.id, task.log)
        except RuntimeError_:
            pass  # already gone: delete is idempotent
        if init is not None and not init.exited.wait(10):
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"delete {task.id}: still running")
        with self._lock:
            self._tasks.pop((task.ns, task.id), None)
        for proc in task.processes.values():
            self.reaper.watched.discard(proc.pid)
        shutil.rmtree(task.bundle, ignore_errors=True)
        e = init.exit if init else None
        return pb.ExitStatus(
            exit_status=e.status if e else 0,
            exited_at=e.exited_at if e else 0.0,
            oom_killed=e.oom_killed if e else False,
        )

    def shutdown(self) -> None:
        """containerd is stopping. In this era its containers cannot outlive it (it is
        their parent and holds their terminals): kill them, as its death would."""
        with self._lock:
            tasks = list(self._tasks.values())
        for task in tasks:
            try:
                self.runtime.kill(task.id, signal.SIGKILL, True, task.log)
                self.runtime.delete(task.id, task.log)
            except RuntimeError_:
                pass
            shutil.rmtree(task.bundle, ignore_errors=True)
