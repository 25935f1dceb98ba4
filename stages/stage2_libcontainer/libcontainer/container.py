"""A container, as libcontainer's callers see it: create, start, signal, exec, destroy.

The state of a container lives in its state directory, not in this object, so that a
short-lived program (stage 3's `runc`) can create a container, exit, and have another
invocation load it to start, kill or delete it:

    <state_dir>/state.json   id, init pid and its start time, created, paused, the
                             spec, and what create read from it that the other
                             verbs need (the cgroup path, the rootfs...)
    <state_dir>/exec.fifo    exists from create until start; init blocks opening it

create() reads the spec once, with specconv, into a Config (configs.py) before it
forks; what it keeps in state.json is enough for `state`, `kill` and `delete`, which
so never load specconv (nor `dataclasses`, ~5 ms of each such runc call).

Reaping: this library never waits for the container's init, nor for an exec'ed
process. Both are orphaned on purpose (their real parent, an intermediate process,
exits at once) and so become children of the caller's nearest child subreaper: the
caller itself once it has called shared.libc's `set_child_subreaper()`. Whoever is their parent then
reaps them with waitpid() and learns the exit status that way; a daemon typically has
one thread per process doing so.

Threads: the methods hold no lock and keep no state in memory that another process
could not read from state.json, so a multithreaded daemon may call them from any
thread (one container at a time per Container object), and the children forked here
do nothing a lock held by another thread at fork time could block (see init.py).
"""

from __future__ import annotations

import _thread
import json
import os
import select
import signal as signals
import time

from shared import trace
from shared.privatedirs import private_file
from stages.stage2_libcontainer.libcontainer import cgroups
from stages.stage2_libcontainer.libcontainer.errors import ContainerError, describe

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    import socket
    from collections.abc import Callable
    from typing import NoReturn

    from stages.stage2_libcontainer.libcontainer import init
    from stages.stage2_libcontainer.libcontainer.configs import Config


def remove_state_dir(state_dir: str) -> None:
    """rm -rf of a state directory, which holds a few files and no subdirectory.

    Not shutil.rmtree: importing shutil adds ~1.6 ms (python -X importtime, beside
    what runc loads anyway) to each `runc delete`, ~17 ms in all.

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

class Stdio:
    """File descriptors in the caller's process that become the process's 0, 1 and 2.

    They are duplicated into the child; the caller still owns (and closes) its own.
    (A plain class, not a dataclass: every runc call loads this module, and
    `dataclasses` would add ~5 ms to each.)"""

    def __init__(self, stdin: int, stdout: int, stderr: int) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr


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


def _spawn(intermediate: Callable[[init.Sync, init.Sync], NoReturn],
           usermap: Callable[[int], None] | None = None) -> tuple[int, init.Sync]:
    """Fork `intermediate(its_sync, child_sync)`, collect the pid it reports for the
    child it forks, reap it. Returns that pid and our end of the child's own socket.
    If it asks for its user namespace's maps first, `usermap(its pid)` writes them.

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
            if message is not None and message.get("type") == "usermap":
                if usermap is None:
                    raise ContainerError("the intermediate asked for user namespace maps")
                usermap(pid)  # see userns.py: only we, outside, can write them
                mid_ours.send(type="usermap-done")
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


def _read_blocking(fd: int) -> bytes:
    """Read what there is on a non-blocking FIFO, waiting for it; b"" at EOF."""
    while True:
        select.select([fd], [], [])
        try:
            return os.read(fd, 4096)
        except BlockingIOError:
            continue


class Container:
    def __init__(self, cid: str, state_dir: str, spec: dict, cgroup_path: str, rootfs: str,
                 oci_version: str, annotations: dict[str, str]) -> None:
        self.id = cid
        self.state_dir = state_dir
        self.spec = spec  # as create was given it: `runc exec` starts from its process
        self.cgroup_path = cgroup_path
        self.rootfs = rootfs
        self.oci_version = oci_version
        self.annotations = annotations
        self.pid = 0
        self.start_time: int | None = None
        self.created = time.time()
        self.paused = False

    @classmethod
    def _from_config(cls, cid: str, state_dir: str, spec: dict, config: Config) -> Container:
        return cls(cid, state_dir, spec, config.cgroups_path or f"/whalebones/{cid}",
                   config.rootfs, config.oci_version, config.annotations)

    @property
    def config(self) -> Config:
        """The spec, read again by specconv: for exec, which needs the namespaces."""
        from stages.stage2_libcontainer.libcontainer import specconv

        return specconv.to_config(self.spec)

    # ------------------------------------------------------------ persistence

    @property
    def fifo(self) -> str:
        return os.path.join(self.state_dir, "exec.fifo")  # init's FIFO_NAME

    @property
    def cgroup(self) -> cgroups.Manager:
        return cgroups.manager(self.cgroup_path)

    def _save(self) -> None:
        data = {"id": self.id, "pid": self.pid, "start_time": self.start_time,
                "created": self.created, "paused": self.paused,
                "cgroup_path": self.cgroup_path, "rootfs": self.rootfs,
                "oci_version": self.oci_version, "annotations": self.annotations,
                "spec": self.spec}
        # A name of its own per process and thread: two writers sharing one would
        # rename each other's half-written file.
        tmp = os.path.join(self.state_dir, f".state.json.{os.getpid()}.{_thread.get_ident()}")
        # Root's alone, as runc's: the spec in it holds the container's env.
        with private_file(tmp) as f:
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
        c = cls(cid, state_dir, data["spec"], data["cgroup_path"], data["rootfs"],
                data["oci_version"], data["annotations"])
        c.pid, c.start_time = data["pid"], data["start_time"]
        c.created, c.paused = data["created"], data["paused"]
        return c

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, cid: str, spec: dict, state_dir: str, stdio: Stdio | None,
               console_socket: socket.socket | None = None,
               warn: Callable[[str], None] | None = None) -> Container:
        """Make the container's init, set up and waiting for `start` (see init.py).

        `spec` is an OCI runtime spec (config.json as a dict) whose root.path is an
        absolute path to a ready root filesystem. `stdio` become init's 0, 1 and 2
        (None: init keeps ours), unless process.terminal is set: init then sends a pty
        master over `console_socket` (see console.py) and uses the slave.

        Returns once init is set up and about to block on exec.fifo; raises
        ContainerError with init's own message otherwise, leaving no process, cgroup
        or state directory behind. The caller reaps init (see the module docstring).
        A spec that specconv cannot read fails first, with the field's name, before
        anything is made. The spec's hooks run on the way (hooks.py): prestart and
        createRuntime here, when init asks; after a failure, poststop (`warn` gets
        their failures).
        """
        import copy

        from stages.stage2_libcontainer.libcontainer import (
            hooks,
            init,
            seccomp,
            specconv,
            userns,
        )

        config = specconv.to_config(spec)
        trace.step("libcontainer", "spec read")
        if config.seccomp is not None:
            seccomp.program(config.seccomp)  # compiled now, before the fork: see there
            trace.step("libcontainer", "seccomp compiled")
        if "user" in config.new_namespaces():
            userns.check_reachable(config.rootfs, userns.host_id(0, config.uid_mappings),
                                   userns.host_id(0, config.gid_mappings))
        try:
            os.makedirs(state_dir, mode=0o711)
        except FileExistsError:
            raise ContainerError(f"container with id exists: {cid}") from None
        except OSError as e:
            raise ContainerError(f"create state directory {state_dir}: {describe(e)}") from None

        c = cls._from_config(cid, state_dir, spec, config)
        fifo_dir = -1
        try:
            os.mkfifo(c.fifo)
            os.chmod(c.fifo, 0o622)  # as runc: any uid the process becomes may write it
            # init opens it for writing as the container's root, which in a user
            # namespace is another host uid: the FIFO is that root's, as runc makes it.
            os.chown(c.fifo, userns.host_id(0, config.uid_mappings),
                     userns.host_id(0, config.gid_mappings))
            fifo_dir = os.open(state_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)  # see
            # init.container_init
            cg = c.cgroup
            # The pids limit comes once init is made, as runc sets its limits: until
            # then the intermediate process is in the cgroup too, and a limit of 1
            # (the spec allows even 0) would fail the fork of init itself.
            resources = copy.copy(config.resources)
            resources.pids_limit = 0
            cg.create(resources)
            trace.step("libcontainer", "cgroup made")
            c.pid, sync = _spawn(
                lambda mid, child: init.intermediate(config, cg.join_files(), mid, child,
                                                     _stdio_tuple(stdio), console_socket,
                                                     fifo_dir),
                lambda pid: userns.write_maps(pid, config.uid_mappings, config.gid_mappings))
            try:
                message = sync.recv()
                if message is not None and message.get("type") == "hooks":
                    state = c.state() | {"status": "creating", "pid": c.pid}
                    hooks.run_all(config.hooks, "prestart", state)
                    hooks.run_all(config.hooks, "createRuntime", state)
                    sync.send(type="hooks-done", state=state)
                    message = sync.recv()
            finally:
                sync.sock.close()
            if message is None or message.get("type") != "ready":
                raise ContainerError(
                    message["message"] if message else "create: init exited before it was ready"
                )
            if config.resources.pids_limit:
                cg.set_pids_limit(config.resources.pids_limit)
            c.start_time = _start_time(c.pid)
            c._save()
        except BaseException as e:
            c._abandon()
            # The lifecycle goes on at "destroy", then the poststop hooks.
            hooks.run_all_warning(config.hooks, "poststop", c.state() | {"pid": 0},
                                  warn or hooks.warn_on_stderr)
            if isinstance(e, OSError):  # ours, not init's: the cgroup, the FIFO, state.json
                raise ContainerError(f"create {cid}: {describe(e)}") from None
            raise
        finally:
            if fifo_dir >= 0:
                os.close(fifo_dir)  # init has its own copy
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

    def start(self, warn: Callable[[str], None] | None = None) -> None:
        """Open exec.fifo for reading: init, blocked opening it for writing, goes on
        to execve the container's program. Any process may call it (see load).

        Then read on to EOF: init keeps its end open, close-on-exec, until the
        program's execve, and writes there why it failed before it (a startContainer
        hook). Last, the poststart hooks (their failures go to `warn`)."""
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
            failure = b""
            while chunk := _read_blocking(fd):
                failure += chunk
        finally:
            os.close(fd)
            os.unlink(self.fifo)
        if failure:
            raise ContainerError(f"start {self.id}: {failure.decode(errors='replace')}")
        if "hooks" in self.spec:
            from stages.stage2_libcontainer.libcontainer import hooks

            hooks.run_all_warning(hooks.from_spec(self.spec), "poststart", self.state(),
                                  warn or hooks.warn_on_stderr)

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
            "ociVersion": self.oci_version,
            "id": self.id,
            "status": status,
            "pid": self.pid if status != "stopped" else 0,
            "bundle": os.path.dirname(self.rootfs),
            "rootfs": self.rootfs,
            "created": _rfc3339(self.created),
            "annotations": self.annotations,
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
        the reason (`exec: "x": executable file not found in $PATH`, or specconv's
        for a bad field). Like init, the process is the caller's to reap (see the
        module docstring)."""
        from stages.stage2_libcontainer.libcontainer import (
            init,
            namespaces,
            seccomp,
            specconv,
        )

        proc = specconv.to_process(process, "process")
        config = self.config
        if config.seccomp is not None:
            seccomp.program(config.seccomp)  # compiled before the fork
        if self.status() not in ("running", "created"):
            raise ContainerError(f"exec {self.id}: container not running")
        join = namespaces.of_process(self.pid, [ns.type for ns in config.namespaces])
        join_files = self.cgroup.join_files()
        pid, sync = _spawn(
            lambda mid, child: init.exec_intermediate(join_files, join, proc, config.seccomp, mid,
                                                      child, _stdio_tuple(stdio),
                                                      console_socket, config.personality))
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
        self._save_as("pause")

    def resume(self) -> None:
        try:
            self.cgroup.thaw()
        except OSError as e:
            raise ContainerError(f"resume {self.id}: {describe(e)}") from None
        self.paused = False
        self._save_as("resume")

    def _save_as(self, verb: str) -> None:
        """Save after a pause or resume, which can race the container's end: `docker rm
        -f` of a paused container sends SIGKILL and then thaws, and the moment the
        thaw lets init die, the daemon's reaper destroys the container and removes its
        state dir, maybe between our thaw and our save. Then the container is gone, as
        the caller learns from this error, rather than from an OSError about a file."""
        try:
            self._save()
        except OSError as e:
            if not os.path.isdir(self.state_dir):
                raise ContainerError(f"container {self.id} does not exist") from None
            raise ContainerError(f"{verb} {self.id}: {describe(e)}") from None

    def destroy(self, warn: Callable[[str], None] | None = None) -> None:
        """Kill whatever is left, remove the cgroup and the state dir, then run the
        poststop hooks (their failures go to `warn`). Idempotent."""
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
        if "hooks" in self.spec:
            from stages.stage2_libcontainer.libcontainer import hooks

            hooks.run_all_warning(hooks.from_spec(self.spec), "poststop",
                                  self.state() | {"status": "stopped", "pid": 0},
                                  warn or hooks.warn_on_stderr)
