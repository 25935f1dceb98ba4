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
import select
import signal

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
        """Run one verb. With `stdio` (the container's own fds: create, exec) nothing
        comes back to us; without, its output and errors come back through pipes."""
        command = [self.binary, "--root", self.root, "--log", log, "--log-format", "json", *args]
        out = err = b""
        with trace.span(self.caller, "call", f"runc {args[0]}", "runc"):
            if stdio is not None:
                pid = spawn(command, stdio)
            else:
                out_r, out_w = os.pipe()
                err_r, err_w = os.pipe()
                try:
                    with open(os.devnull, "rb") as devnull:
                        pid = spawn(command, (devnull.fileno(), out_w, err_w))
                except OSError:  # no such runtime binary, say
                    os.close(out_r)
                    os.close(err_r)
                    raise
                finally:
                    os.close(out_w)  # the runtime holds the only write ends now:
                    os.close(err_w)  # its exit reads as the pipes' end
            if self.calls is not None:
                self.calls.add(pid)  # the reaper must leave its status to us
            try:
                if stdio is None:
                    try:
                        out, err = read_both(out_r, err_r)
                    finally:
                        os.close(out_r)
                        os.close(err_r)
                code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            finally:
                if self.calls is not None:
                    self.calls.discard(pid)
        if code != 0:
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


def spawn(command: list[str], stdio: tuple[int, int, int]) -> int:
    """Run the runtime with `stdio` as its fds 0, 1 and 2; return its pid.

    Not `subprocess`: what it imports beyond what the shim needs anyway (locale,
    warnings, contextlib) held 0.38 MiB in every shim, 7% of its private memory
    (5.46 -> 5.08 MiB USS, smaps_rollup: tests/bench_scale.py), for as long as its
    container lives. posix_spawn does what is needed here, safely in a process with
    threads (no fork of the interpreter): every other fd the runtime could inherit
    is close-on-exec (Python opens them so, PEP 446; process.ConsoleSocket marks the
    one it is sent), and SIGPIPE and SIGXFSZ, which Python ignores, are back to
    their defaults for the runtime and the container it starts.
    """
    actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(stdio)]
    # spawnp: a bare name (RUNTIME=runc) is looked up in PATH, as a shell would
    return os.posix_spawnp(command[0], command, os.environ, file_actions=actions,
                           setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))


def read_both(out: int, err: int) -> tuple[bytes, bytes]:
    """Read two pipes to their ends together: waiting on one while the runtime
    fills the other (64 KiB) would leave each of us waiting on the other."""
    chunks: dict[int, list[bytes]] = {out: [], err: []}
    poller = select.poll()
    for fd in chunks:
        poller.register(fd, select.POLLIN)
    open_fds = len(chunks)
    while open_fds:
        for fd, _ in poller.poll():
            data = os.read(fd, 65536)
            if data:
                chunks[fd].append(data)
            else:  # the runtime closed it (exited)
                poller.unregister(fd)
                open_fds -= 1
    return b"".join(chunks[out]), b"".join(chunks[err])


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
