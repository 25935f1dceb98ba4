"""The shim: start-up, then one Task served over a unix socket until it is deleted.

containerd runs `whalebones-shim --id ID --bundle B --socket S ...` and waits for it to
exit. It does, at once, after forking the real shim; so:

- the shim is not containerd's child: orphaned by the exit, it is re-parented to the
  host's init (or the nearest subreaper), and containerd can die or restart without
  taking it along. containerd started it in a session of its own (setsid), so no
  terminal's hang-up or job-control signal meant for containerd reaches it either;
- the socket is bound and listening *before* the fork: when containerd sees the first
  process exit 0, it can connect straight away, with no polling and no race;
- the shim is a child subreaper: `runc create` forks the container's init and exits,
  and the orphaned init comes to the shim, its parent from then on. The shim waits
  for it, keeps its exit status (in memory and in the bundle, for a containerd that
  was away) and answers `wait` calls with it.

The shim exits after `delete`, or `shutdown`. It logs to the bundle's shim.log.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import socket
import sys
import threading

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

PR_SET_CHILD_SUBREAPER = 36
EXIT_FILE = "exit.json"


def set_child_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


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
    def __init__(self, args: argparse.Namespace, listener: socket.socket) -> None:
        self.listener = listener
        self.stopping = False
        self.reaper = Reaper()
        runtime = Runtime(args.runtime, args.runtime_root, self.reaper.calls)
        self.task = Task(
            args.id,
            args.bundle,
            runtime,
            self.reaper,
            console_dir=os.path.dirname(args.socket),
            on_exit=lambda exec_id, e: exec_id or write_exit(args.bundle, e),
        )

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

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = protocol.read_request(conn)
                name = request.pop("method")
                if name not in METHODS:
                    raise ShimError("bad_request", f"no such method: {name}")
                result = getattr(self, name)(**request)
            except ShimError as e:
                protocol.reply(conn, error=e)
            except NotFound as e:
                protocol.reply(conn, error=ShimError("not_found", str(e)))
            except AlreadyExists as e:
                protocol.reply(conn, error=ShimError("already_exists", str(e)))
            except (TaskError, OSError, TypeError, ValueError) as e:
                protocol.reply(conn, error=ShimError("failed", str(e)))
            else:
                protocol.reply(conn, result)
        if self.stopping:
            # Shutting the listener down wakes the accept loop: the shim exits.
            self.listener.shutdown(socket.SHUT_RDWR)


METHODS = {
    "create",
    "start",
    "wait",
    "kill",
    "exec",
    "resize",
    "close_io",
    "pids",
    "state",
    "delete_process",
    "delete",
    "shutdown",
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="whalebones-shim", description=__doc__.splitlines()[0])
    p.add_argument("--id", required=True)
    p.add_argument("--namespace", default="whalebones")
    p.add_argument("--bundle", required=True)
    p.add_argument("--socket", required=True, help="where to serve the shim's API")
    p.add_argument("--runtime", required=True, help="the OCI runtime binary")
    p.add_argument("--runtime-root", required=True, help="the runtime's --root")
    args = p.parse_args(argv)

    if os.path.exists(args.socket):
        os.unlink(args.socket)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # only root (containerd) may talk to a shim
    listener.bind(args.socket)
    os.umask(old)
    listener.listen(64)
    if os.fork() > 0:
        return 0  # containerd's child is done; the shim below it is now an orphan
    os.chdir(args.bundle)
    set_child_subreaper()
    shim = Shim(args, listener)
    print(f"shim {os.getpid()} for {args.id} serving on {args.socket}", file=sys.stderr)
    try:
        shim.serve()
    finally:
        listener.close()
        if os.path.exists(args.socket):
            os.unlink(args.socket)
    return 0
