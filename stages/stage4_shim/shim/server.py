"""The shim's server: one Task, its API served over a unix socket until it is deleted.

Each call arrives as a JSON line (protocol.py) and becomes a method call on `Shim`,
which passes it on to stage 3's Task. A `wait` is a call that sits on its connection
until the process exits; any number of them can wait at once, one thread each.
"""

from __future__ import annotations

import json
import os
import socket
import threading

from shared import trace
from stages.stage3_containerd.containerd.process import Exit, Reaper
from stages.stage3_containerd.containerd.runtime import Runtime
from stages.stage3_containerd.containerd.task import (
    AlreadyExists,
    NotFound,
    Stdio,
    Task,
    TaskError,
)
from stages.stage4_shim.shim import protocol
from stages.stage4_shim.shim.protocol import ShimError

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:  # (main imports this module: a cycle at run time)
    from stages.stage4_shim.shim.main import Args

EXIT_FILE = "exit.json"


def write_exit(bundle: str, e: Exit) -> None:
    """Durably: written to a temporary file, synced, then renamed over."""
    path = os.path.join(bundle, EXIT_FILE)
    with open(path + ".tmp", "w") as f:
        json.dump({"status": e.status, "exited_at": e.exited_at}, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(path + ".tmp", path)


def read_exit(bundle: str) -> Exit | None:
    try:
        with open(os.path.join(bundle, EXIT_FILE)) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return Exit(data["status"], data["exited_at"])


def exit_dict(e: Exit | None) -> dict | None:
    return None if e is None else {"status": e.status, "exited_at": e.exited_at}


class Shim:
    def __init__(self, args: Args, listener: socket.socket) -> None:
        self.listener = listener
        self.stopping = False
        self.last_reply_sent = threading.Event()
        self.bundle = args.bundle
        self.reaper = Reaper()
        runtime = Runtime(args.runtime, args.runtime_root, self.reaper.calls, caller="shim")
        self.task = Task(
            args.id,
            args.bundle,
            runtime,
            self.reaper,
            console_dir=os.path.dirname(args.socket),
            on_exit=self._record_exit,
        )

    def _record_exit(self, exec_id: str, e: Exit) -> None:
        """The init's exit goes to disk as well as into memory: if containerd is away
        when the container exits, and this shim dies before it is back, the file is
        all that is left to tell the next containerd how the container ended."""
        if not exec_id:
            write_exit(self.bundle, e)

    # ------------------------------------------------------------ the API

    def create(self, stdin: str, stdout: str, stderr: str, terminal: bool) -> int:
        return self.task.create(Stdio(stdin, stdout, stderr, terminal))

    def start(self) -> None:
        self.task.start()

    def wait(self, exec_id: str = "") -> dict | None:
        return exit_dict(self.task.wait(exec_id))

    def kill(self, signal: int, exec_id: str = "", all: bool = False) -> None:
        self.task.kill(exec_id, signal, all)

    def exec(
        self, exec_id: str, process: str, stdin: str, stdout: str, stderr: str, terminal: bool
    ) -> int:
        return self.task.exec(exec_id, process.encode(), Stdio(stdin, stdout, stderr, terminal))

    def resize(self, height: int, width: int, exec_id: str = "") -> None:
        self.task.resize(exec_id, height, width)

    def close_io(self, exec_id: str = "") -> None:
        self.task.close_io(exec_id)

    def pids(self) -> list[int]:
        return self.task.pids()

    def pause(self) -> None:
        self.task.pause()

    def resume(self) -> None:
        self.task.resume()

    def metrics(self) -> dict:
        return self.task.metrics()

    def update(self, resources: str) -> None:
        self.task.update(resources.encode())

    def state(self) -> dict:
        init = self.task.processes.get("")
        return {"pid": init.pid if init else 0, "status": self.task.status()}

    def delete_process(self, exec_id: str) -> dict | None:
        return exit_dict(self.task.delete_process(exec_id))

    def delete(self) -> dict | None:
        e = self.task.delete()
        self.stop_serving()
        return exit_dict(e)

    def shutdown(self) -> None:
        """Go away (after a failed create: there is no container to keep)."""
        self.task.kill_all()
        self.stop_serving()

    # ------------------------------------------------------------ serving

    def stop_serving(self) -> None:
        self.stopping = True  # once the reply is out (see _handle)

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                break  # shut down: deleted
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        self.last_reply_sent.wait(5)  # the process must not exit before the reply is out

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            result, error = None, None
            try:
                request = protocol.read_request(conn)
                name = request.pop("method")
                if name not in METHODS:
                    raise ShimError("bad_request", f"no such method: {name}")
                with trace.span("shim", "serve", name):
                    result = getattr(self, name)(**request)
            except ShimError as e:
                error = e
            except NotFound as e:
                error = ShimError("not_found", str(e))
            except AlreadyExists as e:
                error = ShimError("already_exists", str(e))
            except (TaskError, OSError, TypeError, ValueError) as e:
                error = ShimError("failed", str(e))
            if self.stopping:
                # Deleted: stop accepting before the reply goes out, so that nobody is
                # answered after it. Shutting the listener down also wakes the accept
                # loop, and the shim exits.
                self.listener.shutdown(socket.SHUT_RDWR)
            protocol.reply(conn, result, error)
        if self.stopping:
            self.last_reply_sent.set()


METHODS = {
    "create",
    "start",
    "wait",
    "kill",
    "pause",
    "resume",
    "update",
    "metrics",
    "exec",
    "resize",
    "close_io",
    "pids",
    "state",
    "delete_process",
    "delete",
    "shutdown",
}
