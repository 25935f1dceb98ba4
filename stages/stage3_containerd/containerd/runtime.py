"""Calling an OCI runtime (`runc`, ours or the real one) the way containerd does.

containerd never makes a container itself: it writes a bundle and runs the runtime
binary with the contract every OCI runtime CLI honours
(docs/reference/contracts.md#runc): global `--root --log --log-format json`, then the
verb. Errors come back as JSON lines in the log file, which is how the runtime's own
words reach the user.
"""

from __future__ import annotations

import json
import os
import subprocess

from shared import trace


class RuntimeError_(Exception):
    """The runtime refused; the message is its own."""


class Runtime:
    def __init__(
        self, binary: str, root: str, calls: set[int] | None = None, caller: str = "containerd"
    ) -> None:
        self.binary = binary
        self.root = root  # the runtime's state (`runc --root`)
        self.calls = calls  # pids of runtime calls in flight (see process.Reaper)
        self.caller = caller  # who runs it, for trace mode: containerd, or a shim

    def _run(self, args: list[str], log: str, stdio: tuple[int, int, int] | None = None) -> str:
        command = [self.binary, "--root", self.root, "--log", log, "--log-format", "json", *args]
        stdin, stdout, stderr = stdio or (subprocess.DEVNULL, subprocess.PIPE, subprocess.PIPE)
        with (
            trace.span(self.caller, "call", f"runc {args[0]}", "runc"),
            subprocess.Popen(command, stdin=stdin, stdout=stdout, stderr=stderr) as call,
        ):
            if self.calls is not None:
                self.calls.add(call.pid)  # the reaper must leave its status to us
            try:
                out, err = call.communicate()
            finally:
                if self.calls is not None:
                    self.calls.discard(call.pid)
        if call.returncode != 0:
            raise RuntimeError_(f"{args[0]}: {last_error(log) or _text(err)}")
        return _text(out)

    def create(
        self,
        cid: str,
        bundle: str,
        pid_file: str,
        log: str,
        stdio: tuple[int, int, int],
        console_socket: str | None,
    ) -> None:
        # The runtime's fds 0/1/2 become the container's (without a terminal): the
        # FIFOs go straight to the process, nobody copies them.
        args = ["create", "--bundle", bundle, "--pid-file", pid_file]
        if console_socket:
            args += ["--console-socket", console_socket]
        self._run([*args, cid], log, stdio)

    def start(self, cid: str, log: str) -> None:
        self._run(["start", cid], log)

    def kill(self, cid: str, signal: int, all: bool, log: str) -> None:
        self._run(["kill", *(["--all"] if all else []), cid, str(signal)], log)

    def pause(self, cid: str, log: str) -> None:
        self._run(["pause", cid], log)

    def resume(self, cid: str, log: str) -> None:
        self._run(["resume", cid], log)

    def update(self, cid: str, resources_file: str, log: str) -> None:
        self._run(["update", "--resources", resources_file, cid], log)

    def exec(
        self,
        cid: str,
        process_file: str,
        pid_file: str,
        log: str,
        stdio: tuple[int, int, int],
        console_socket: str | None,
    ) -> None:
        args = ["exec", "--process", process_file, "--detach", "--pid-file", pid_file]
        if console_socket:
            args += ["--console-socket", console_socket]
        self._run([*args, cid], log, stdio)

    def ps(self, cid: str, log: str) -> list[int]:
        return json.loads(self._run(["ps", "--format", "json", cid], log) or "[]") or []

    def delete(self, cid: str, log: str) -> None:
        self._run(["delete", "--force", cid], log)

    def list_ids(self, log: str) -> list[str]:
        return self._run(["list", "--quiet"], log).split()


def delete_leftovers(runtime: Runtime, keep: set[str], log: str) -> list[str]:
    """At start-up: `delete --force` every container in the runtime's root that no task
    of ours accounts for (the ids in `keep`); the ids deleted.

    A containerd (or a shim) killed before its `delete` ran leaves the runtime's state
    behind, and with it the container's cgroup: the kernel keeps a cgroup directory
    until someone rmdirs it, and only the runtime knows its path. The runtime's root
    is ours alone, so whatever in it we did not adopt is such a leftover: the real
    containerd, loading its tasks, likewise deletes those whose shim is gone.
    """
    try:
        ids = runtime.list_ids(log)
    except RuntimeError_:
        return []
    deleted = []
    for cid in ids:
        if cid in keep:
            continue
        try:
            runtime.delete(cid, log)  # --force: kills what still runs, then rmdirs
            deleted.append(cid)
        except RuntimeError_:
            pass  # its own error is in the log; the next start tries again
    return deleted


def _text(data: bytes | None) -> str:
    return (data or b"").decode(errors="replace").strip()


def last_error(log: str) -> str:
    try:
        with open(log) as f:
            lines = f.readlines()
    except FileNotFoundError:
        return ""
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("error", "fatal"):
            return entry.get("msg", "")
    return ""


def read_pid(path: str) -> int:
    with open(path) as f:
        return int(f.read().strip())


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
