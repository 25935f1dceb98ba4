"""A container, as libcontainer's callers see it: create, start, signal, exec, destroy.

The state of a container lives in its state directory, not in this object, so that a
short-lived program (stage 3's `runc`) can create a container, exit, and have another
invocation load it to start, kill or delete it:

    <state_dir>/state.json   id, init pid and its start time, the spec, created
    <state_dir>/exec.fifo    exists from create until start; init blocks opening it

Reaping: this library never waits for the container's init, nor for an exec'ed
process. Both are orphaned on purpose (their real parent, an intermediate process,
exits at once) and so become children of the caller's nearest child subreaper: the
caller itself once it has called `set_child_subreaper()`. Whoever is their parent then
reaps them with waitpid() and learns the exit status that way; a daemon typically has
one thread per process doing so.

Threads: the methods hold no lock and keep no state in memory that another process
could not read from state.json, so a multithreaded daemon may call them from any
thread (one container at a time per Container object), and the children forked here
do nothing a lock held by another thread at fork time could block (see init.py).
"""

from __future__ import annotations

import json
import os
import select
import signal as signals
import time

from stages.stage2_libcontainer.libcontainer import cgroups
from stages.stage2_libcontainer.libcontainer.errors import ContainerError, describe

TYPE_CHECKING = False  # `typing` is not imported: runc loads this module on every call
if TYPE_CHECKING:
    import socket

    from stages.stage2_libcontainer.libcontainer import init


def remove_state_dir(state_dir: str) -> None:
    """rm -rf, without importing shutil (and the compression modules it pulls in)
    into every runc call: a state directory holds a few files and no subdirectory.

    Never raises, as the `shutil.rmtree(ignore_errors=True)` it replaces: it runs on
    the way out of a container, and another thread of a daemon may still be writing
    state.json for it (a thaw racing the exit), so a file that appears meanwhile is
    removed on a second pass rather than fail the whole clean-up."""
    for _ in range(5):
        try:
            names = os.listdir(state_dir)
        except OSError:
            return  # gone already (or never made)
        for name in names:
            try:
                os.unlink(os.path.join(state_dir, name))
            except OSError:
                pass
        try:
            os.rmdir(state_dir)
            return
        except OSError:
            continue  # written into meanwhile: once more

class Stdio(tuple[int, int, int]):
    """File descriptors in the caller's process that become the process's 0, 1 and 2.

    They are duplicated into the child; the caller still owns (and closes) its own.
    (A tuple, not a dataclass: runc imports this on every call, and `dataclasses`
    alone costs a few milliseconds of each one.)"""

    def __new__(cls, stdin: int, stdout: int, stderr: int) -> Stdio:
        return super().__new__(cls, (stdin, stdout, stderr))

    @property
    def stdin(self) -> int:
        return self[0]

    @property
    def stdout(self) -> int:
        return self[1]

    @property
    def stderr(self) -> int:
        return self[2]


def _start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since
    boot. A pid can be reused; the pair (pid, start time) cannot."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = data[data.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has exited; only its parent's wait is missing
        return None
    return int(fields[19])


def _rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e9):09d}Z"


def _sync_pair() -> tuple[init.Sync, init.Sync]:
    # Imported here, not at the top: the code that sets a container up (init and all
    # it needs) is for create and exec; `runc state` or `kill` should not load it.
    import socket

    from stages.stage2_libcontainer.libcontainer import init

    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    return init.Sync(ours), init.Sync(theirs)


def _stdio_tuple(stdio: Stdio | None) -> tuple[int, int, int] | None:
    return None if stdio is None else (stdio.stdin, stdio.stdout, stdio.stderr)


def _spawn(intermediate) -> tuple[int, init.Sync]:  # type: ignore[no-untyped-def]
    """Fork `intermediate(its_sync, child_sync)`, collect the pid it reports for the
    child it forks, reap it. Returns that pid and our end of the child's own socket.

    Each of the two processes talks on a socket of its own: the child may be quick
    enough to say "ready" (or fail) before the intermediate has said its pid, and on a
    shared socket its words would come first.
    """
    mid_ours, mid_theirs = _sync_pair()
    child_ours, child_theirs = _sync_pair()
    pid = os.fork()
    if pid == 0:
        mid_ours.sock.close()
        child_ours.sock.close()
        intermediate(mid_theirs, child_theirs)  # never returns
    mid_theirs.sock.close()
    child_theirs.sock.close()
    try:
        try:
            message = mid_ours.recv()
        finally:
            os.waitpid(pid, 0)
            mid_ours.sock.close()
        if message is None:
            raise ContainerError("the intermediate process exited without a word")
        if message.get("type") == "error":
            raise ContainerError(message["message"])
        return int(message["pid"]), child_ours
    except BaseException:
        child_ours.sock.close()
        raise


class Container:
    def __init__(self, cid: str, state_dir: str, spec: dict, pid: int = 0,
                 start_time: int | None = None, created: float = 0.0,
                 paused: bool = False) -> None:
        self.id = cid
        self.state_dir = state_dir
        self.spec = spec
        self.pid = pid
        self.start_time = start_time
        self.created = created or time.time()
        self.paused = paused

    # ------------------------------------------------------------ persistence

    @property
    def fifo(self) -> str:
        return os.path.join(self.state_dir, "exec.fifo")

    @property
    def cgroup(self) -> cgroups.Manager:
        path = (self.spec.get("linux") or {}).get("cgroupsPath") or f"/whalebones/{self.id}"
        return cgroups.manager(path)

    def _save(self) -> None:
        data = {"id": self.id, "pid": self.pid, "start_time": self.start_time,
                "created": self.created, "paused": self.paused, "spec": self.spec}
        tmp = os.path.join(self.state_dir, ".state.json")
        with open(tmp, "w") as f:
            json.dump(data, f)
        os.rename(tmp, os.path.join(self.state_dir, "state.json"))

    @classmethod
    def load(cls, cid: str, state_dir: str) -> Container:
        """The container whose state create() wrote in state_dir, from any process."""
        try:
            with open(os.path.join(state_dir, "state.json")) as f:
                data = json.load(f)
        except FileNotFoundError:
            raise ContainerError(f"container {cid} does not exist") from None
        return cls(cid, state_dir, data["spec"], data["pid"], data["start_time"],
                   data["created"], data.get("paused", False))

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, cid: str, spec: dict, state_dir: str, stdio: Stdio | None,
               console_socket: socket.socket | None = None) -> Container:
        """Make the container's init, set up and waiting for `start` (see init.py).

        `spec` is an OCI runtime spec (config.json as a dict) whose root.path is an
        absolute path to a ready root filesystem. `stdio` become init's 0, 1 and 2
        (None: init keeps ours), unless process.terminal is set: init then sends a pty
        master over `console_socket` (see console.py) and uses the slave.

        Returns once init is set up and about to block on exec.fifo; raises
        ContainerError with init's own message otherwise, leaving no process, cgroup
        or state directory behind. The caller reaps init (see the module docstring).
        """
        try:
            os.makedirs(state_dir, mode=0o711)
        except FileExistsError:
            raise ContainerError(f"container with id exists: {cid}") from None
        except OSError as e:
            raise ContainerError(f"create state directory {state_dir}: {describe(e)}") from None
        from stages.stage2_libcontainer.libcontainer import init

        c = cls(cid, state_dir, spec)
        try:
            os.mkfifo(c.fifo, 0o622)
            cg = c.cgroup
            cg.create((spec.get("linux") or {}).get("resources") or {})
            c.pid, sync = _spawn(
                lambda mid, child: init.intermediate(spec, cg.procs_files(), mid, child,
                                                     _stdio_tuple(stdio), console_socket,
                                                     c.fifo))
            try:
                message = sync.recv()
            finally:
                sync.sock.close()
            if message is None or message.get("type") != "ready":
                raise ContainerError(
                    message["message"] if message else "create: init exited before it was ready"
                )
            c.start_time = _start_time(c.pid)
            c._save()
        except BaseException as e:
            c._abandon()
            if isinstance(e, OSError):  # ours, not init's: the cgroup, the FIFO, state.json
                raise ContainerError(f"create {cid}: {describe(e)}") from None
            raise
        return c

    def _abandon(self) -> None:
        """Undo a half-made container: kill init, reap it if it is ours, clean up."""
        if self.pid:
            try:
                os.kill(self.pid, signals.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        try:
            self.cgroup.destroy()
        except OSError:
            pass
        remove_state_dir(self.state_dir)

    def start(self) -> None:
        """Open exec.fifo for reading: init, blocked opening it for writing, goes on
        to execve the container's program. Any process may call it (see load)."""
        if not os.path.exists(self.fifo):
            raise ContainerError(f"container {self.id} is not in created state")
        fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            # Opening the read end never blocks; init's open for writing now returns
            # and it writes one byte. If init died meanwhile, nobody ever writes.
            deadline = time.monotonic() + 10
            while True:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready and os.read(fd, 1):
                    break
                if _start_time(self.pid) is None or time.monotonic() > deadline:
                    raise ContainerError(f"start {self.id}: container init exited")
        finally:
            os.close(fd)
            os.unlink(self.fifo)

    def status(self) -> str:
        """created (init waits on exec.fifo), running, paused, or stopped: init is
        gone, a zombie, or its pid now belongs to another process (start time differs)."""
        if not self.pid or _start_time(self.pid) != self.start_time:
            return "stopped"
        if os.path.exists(self.fifo):
            return "created"
        return "paused" if self.paused else "running"

    def state(self) -> dict:
        """The OCI runtime spec's state object."""
        status = self.status()
        return {
            "ociVersion": self.spec.get("ociVersion", "1.0.2"),
            "id": self.id,
            "status": status,
            "pid": self.pid if status != "stopped" else 0,
            "bundle": os.path.dirname(self.spec.get("root", {}).get("path", "")),
            "rootfs": self.spec.get("root", {}).get("path", ""),
            "created": _rfc3339(self.created),
            "annotations": self.spec.get("annotations") or {},
        }

    def signal(self, sig: int, all: bool = False) -> None:
        """Send sig to init, or with all=True to every process in the cgroup."""
        if all:
            for pid in self.processes():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            return
        if self.status() == "stopped":
            raise ContainerError(f"kill {self.id}: container not running")
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:  # it died since status() looked
            raise ContainerError(f"kill {self.id}: container not running") from None

    def exec(self, process: dict, stdio: Stdio | None,
             console_socket: socket.socket | None = None) -> int:
        """Run one more process inside (an OCI `process` object): it joins init's
        cgroup and namespaces, and is set up as init was (user, capabilities, cwd...).

        Returns its host pid once execve has succeeded, or raises ContainerError with
        the reason (`exec: "x": executable file not found in $PATH`). Like init, the
        process is the caller's to reap (see the module docstring)."""
        if self.status() not in ("running", "created"):
            raise ContainerError(f"exec {self.id}: container not running")
        from stages.stage2_libcontainer.libcontainer import init, namespaces

        types = [n["type"] for n in (self.spec.get("linux") or {}).get("namespaces") or []]
        join = namespaces.of_process(self.pid, types)
        procs_files = self.cgroup.procs_files()
        pid, sync = _spawn(
            lambda mid, child: init.exec_intermediate(procs_files, join, process, mid, child,
                                                      _stdio_tuple(stdio), console_socket))
        try:
            message = sync.recv()  # EOF: execve succeeded and closed the socket
        finally:
            sync.sock.close()
        if message is not None and message.get("type") == "error":
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            raise ContainerError(message["message"])
        return pid

    def processes(self) -> list[int]:
        return self.cgroup.processes()

    def oom_killed(self) -> bool:
        return self.cgroup.oom_killed()

    def pause(self) -> None:
        """Freeze every process in the cgroup (they stop being scheduled at all)."""
        try:
            self.cgroup.freeze()
        except OSError as e:
            raise ContainerError(f"pause {self.id}: {describe(e)}") from None
        self.paused = True
        self._save()

    def resume(self) -> None:
        try:
            self.cgroup.thaw()
        except OSError as e:
            raise ContainerError(f"resume {self.id}: {describe(e)}") from None
        self.paused = False
        self._save()

    def destroy(self) -> None:
        """Kill whatever is left, remove the cgroup and the state dir. Idempotent."""
        if self.paused:
            try:
                self.cgroup.thaw()  # a frozen process cannot even die
            except OSError:
                pass
        if self.pid and _start_time(self.pid) == self.start_time:
            try:
                os.kill(self.pid, signals.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.cgroup.destroy()
        except OSError as e:
            raise ContainerError(f"destroy {self.id}: {describe(e)}") from None
        remove_state_dir(self.state_dir)
