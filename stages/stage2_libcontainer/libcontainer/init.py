"""What runs in the forked children: runc's "nsexec" and "init", in Python.

Making a container takes two forks:

    caller ──fork──> intermediate: joins the cgroup, unshare()s the namespaces,
                      │             forks again, reports the child's pid, exits
                      └──fork──> init: pid 1 of the new pid namespace; sets up the
                                        rootfs, pivots, drops privileges, waits on
                                        exec.fifo until `start`, then execve()s

The second fork exists because of the pid namespace: unshare(CLONE_NEWPID) puts the
caller's *next child* in the new namespace, never the caller itself. The intermediate
exits so init is not its child; init is re-parented to the nearest "child subreaper"
above it (the daemon, or containerd, which asked for that role with prctl), which can
then wait for it as for its own child.

These functions run in a process forked from a possibly multithreaded parent: they use
only system calls and plain Python (no logging, no locks another thread might have
held at fork time, no imports: everything is imported here, before any fork), report
failure over the sync socket, and leave with os._exit.

Each child reports to the caller on a sync socket of its own (SOCK_SEQPACKET: one
JSON message per send): the intermediate sends {"type": "pid"}, init then sends
{"type": "ready"}; either may send {"type": "error", "message": ...} instead. The
sockets are close-on-exec, so for exec, where there is no "ready", EOF on the child's
socket is the news that execve succeeded.

What they are given is a Config (configs.py), read from the spec by specconv in the
caller before the first fork: a bad field never gets this far. Every kernel call that
sets init up goes through a Kernel (kernel.py), so that a unit test can run
container_init against a recording fake and check the order of its steps.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable

from shared import trace
from stages.stage2_libcontainer.libcontainer import (
    console,
    hooks,
    lsm,
    namespaces,
    process,
    rootfs,
    sched,
    syscalls,
    userns,
)
from stages.stage2_libcontainer.libcontainer.configs import Config, Process, Seccomp
from stages.stage2_libcontainer.libcontainer.errors import ContainerError, describe, step
from stages.stage2_libcontainer.libcontainer.kernel import LINUX, Kernel

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import NoReturn


FIFO_NAME = "exec.fifo"  # in the container's state directory (see container.py)


class Sync:
    """One message per send over a SOCK_SEQPACKET socket pair; EOF means 'gone'."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send(self, **message: object) -> None:
        self.sock.send(json.dumps(message).encode())

    def recv(self) -> dict | None:
        data = self.sock.recv(65536)
        return json.loads(data) if data else None


def close_other_fds(keep: set[int]) -> None:
    """The parent's other files (sockets, other containers' FIFOs) are not this
    container's business: close them now, not only at exec (they are CLOEXEC), so an
    init waiting for `start` does not hold another container's stream open."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _stdio_to_012(fds: tuple[int, int, int]) -> None:
    # Move the three out of the way first: dup2(stdout, 1) must not clobber a
    # stdin that happened to be fd 1.
    high = [os.dup(fd) for fd in fds]
    for target, fd in enumerate(high):
        os.dup2(fd, target, inheritable=True)
        os.close(fd)


def _keep(syncs: list[Sync], stdio: tuple[int, int, int] | None,
          console_socket: socket.socket | None) -> set[int]:
    keep = {*(s.sock.fileno() for s in syncs), *(stdio or ())}
    if console_socket is not None:
        keep.add(console_socket.fileno())
    return keep


def _join_cgroup(join_files: list[str]) -> None:
    """Move ourselves into the cgroup: every process forked from here on is in it.
    "0" names the writer itself (see the v1 manager's join_files for why that is
    quicker than our pid)."""
    for path in join_files:
        with open(path, "w") as f:
            f.write("0")


def _attach_stdio(proc: Process, stdio: tuple[int, int, int] | None,
                  console_socket: socket.socket | None) -> None:
    """Fds 0, 1 and 2: the pty's slave with a terminal, else the caller's fds."""
    if proc.terminal:
        if console_socket is None:
            raise ContainerError("process.terminal is set but there is no console socket")
        slave = console.setup(console_socket, proc.console_size)
        _stdio_to_012((slave, slave, slave))
        os.close(slave)
    elif stdio is not None:
        _stdio_to_012(stdio)


def _fail(sync: Sync, error: BaseException) -> NoReturn:
    message = describe(error)
    try:
        sync.send(type="error", message=message)
    except OSError:
        # After "ready" nobody listens on the sync socket any more (the caller has
        # returned from create): the container's own stderr is the last place to say it.
        try:
            os.write(2, f"container init: {message}\n".encode())
        except OSError:
            pass
    os._exit(127)


def _as_child(sync: Sync, steps: Callable[[], None]) -> NoReturn:
    """Run a forked child's steps, which end in execve; any error goes to `sync`."""
    try:
        steps()
    except BaseException as e:
        _fail(sync, e)
    os._exit(127)  # not reached: execve has replaced this program


def _prepare_process(kernel: Kernel, proc: Process, policy: Seccomp | None,
                     stdio: tuple[int, int, int] | None,
                     console_socket: socket.socket | None,
                     persona: int | None = None) -> tuple[str, dict[str, str]]:
    """What init and exec share, in runc's order: stdio (the pty is made while still
    root), cwd, rlimits (raising a hard limit needs CAP_SYS_RESOURCE), the AppArmor
    profile for the coming execve, the CPU scheduler and I/O priority (CAP_SYS_NICE
    for a real-time policy) and the personality (linux.personality), then user,
    capabilities and no_new_privs, the PATH lookup, done as the final user, as execve
    will be, and the seccomp filter. Returns (path to execute, environment).

    The filter comes as late as it can, so that it need not allow init's own calls,
    and where runc loads it (standard_init_linux.go): loading one takes either
    no_new_privs or CAP_SYS_ADMIN. With no_new_privs, after it and everything else;
    the only calls left are init's "ready", the wait for `start` (open and write
    exec.fifo) and execve, so a filter that cannot load fails `create`, not `start`.
    Without it, before the capabilities are dropped, while init still has CAP_SYS_ADMIN:
    the filter must then allow setuid, capset and prctl, as Docker's does."""
    _attach_stdio(proc, stdio, console_socket)
    kernel.default_signals()
    with step(f"chdir to cwd {proc.cwd}"):
        kernel.chdir(proc.cwd)
    process.set_rlimits(kernel, proc.rlimits)
    lsm.apply_apparmor(kernel, proc.apparmor_profile)
    sched.set_scheduler(kernel, proc.scheduler)
    sched.set_io_priority(kernel, proc.io_priority)
    sched.set_personality(kernel, persona)
    if policy is not None and not proc.no_new_privileges:
        kernel.load_seccomp(policy)
    process.become(kernel, proc)
    env = process.environment(proc)
    path = process.look_path(proc.args[0], env)
    if policy is not None and proc.no_new_privileges:
        kernel.load_seccomp(policy)
    return path, env


def intermediate(
    config: Config,
    join_files: list[str],
    sync: Sync,
    child_sync: Sync,
    stdio: tuple[int, int, int] | None,
    console_socket: socket.socket | None,
    fifo_dir: int,
) -> NoReturn:
    """Report init's pid on `sync`; init reports on `child_sync` (see container._spawn).
    `fifo_dir`: exec.fifo's directory, opened O_PATH by the caller (see container_init)."""
    try:
        close_other_fds(_keep([sync, child_sync], stdio, console_socket) | trace.fds()
                        | {fifo_dir})
        _join_cgroup(join_files)  # before the cgroup namespace: init sees its cgroup as /
        trace.step("init", "joined the cgroup")
        process.set_oom_score_adj(LINUX, config.process)  # host root still: see there
        namespaces.join(LINUX, namespaces.join_paths(config.namespaces))
        if "user" in config.new_namespaces():
            _new_user_namespace(sync)
        if config.has_namespace("user"):
            userns.become_root()  # not before: mapped ids only from now on
        # The rest now, so that they belong to the user namespace (see userns.py).
        syscalls.unshare(namespaces.new_flags(config.namespaces) & ~namespaces.CLONE_NEWUSER)
        namespaces.set_time_offsets(config.time_offsets)
        trace.step("init", "unshare(" + ", ".join(sorted(config.new_namespaces())) + ")")
        pid = os.fork()
        if pid == 0:
            sync.sock.close()
            _as_child(child_sync, lambda: container_init(LINUX, config, child_sync, stdio,
                                                         console_socket, fifo_dir))
        child_sync.sock.close()
        sync.send(type="pid", pid=pid)
        os._exit(0)
    except BaseException as e:
        _fail(sync, e)


def _new_user_namespace(sync: Sync) -> None:
    """unshare the user namespace alone, and have the caller write its maps."""
    syscalls.unshare(namespaces.CLONE_NEWUSER)
    sync.send(type="usermap")
    answer = sync.recv()
    if answer is None or answer.get("type") != "usermap-done":
        raise ContainerError("the caller did not write the user namespace's maps")


def container_init(
    kernel: Kernel,
    config: Config,
    sync: Sync,
    stdio: tuple[int, int, int] | None,
    console_socket: socket.socket | None,
    fifo_dir: int,
) -> None:
    """Init's steps, in their order; the last, execve, does not return (with the real
    kernel). An error is raised, for intermediate() to report over `sync`.

    `fifo_dir` is the directory of exec.fifo (the container's state directory),
    opened O_PATH (it opens nothing) by the caller: the FIFO lives on the host, out of
    sight after pivot_root (or chroot, or once a mount namespace is joined), but
    openat() from this handle still reaches it, with no /proc needed inside (none
    without a mount namespace). The caller opens it, not init: the runtime's root
    directory above is root's alone (0700), and the root of a user namespace is not
    host root, so it could not even walk the path."""
    kernel.setsid()  # a session of its own: it may then take a controlling terminal
    new_ns = config.new_namespaces()
    if "network" in new_ns:
        kernel.loopback_up()
    own_mount_ns = config.has_mount_namespace()  # new, or joined by path: ours to set up
    if own_mount_ns:
        rootfs.prepare(kernel, config)
        trace.step("init", "mounts ready: proc, dev, sys, masked paths")
    else:
        # None at all: the runtime's mount table, as runc does: the spec's mounts are
        # made there, on the rootfs, and chroot is the best that can be done (it
        # changes how this process resolves "/", not what it can reach).
        rootfs.mount_without_namespace(kernel, config)
    hook_state = create_hooks(config, sync)
    if own_mount_ns:
        rootfs.pivot(kernel, config.rootfs, config.rootfs_propagation)
        trace.step("init", "pivot_root: the image's rootfs is now /")
    else:
        kernel.chroot(config.rootfs)
        kernel.chdir("/")
    if "uts" in new_ns and config.hostname:
        with step(f"sethostname {config.hostname}"):
            kernel.sethostname(config.hostname)
    if "uts" in new_ns and config.domainname:
        # setdomainname(2) has no wrapper in Python's os; its sysctl is the same
        # kernel field, and like the hostname it belongs to the UTS namespace.
        with step(f"setdomainname {config.domainname}"):
            kernel.write_file("/proc/sys/kernel/domainname", config.domainname)
    rootfs.finish(kernel, config)
    path, env = _prepare_process(kernel, config.process, config.seccomp, stdio,
                                 console_socket, config.personality)

    trace.step("init", "created: waiting on exec.fifo for `start`")
    sync.send(type="ready")
    # Block here until `start` opens the FIFO for reading: this is the line
    # between "created" and "running" in the OCI runtime's lifecycle. The FIFO is
    # reached through the handle on its directory: its path is on the host.
    with step("open exec.fifo"):
        fd = os.open(FIFO_NAME, os.O_WRONLY | os.O_CLOEXEC, dir_fd=fifo_dir)
        os.write(fd, b"0")
    os.close(fifo_dir)
    # The FIFO stays open (close-on-exec) until execve: `start` reads on to EOF, which
    # the successful execve makes, or to the words of what failed before it.
    try:
        if hook_state is not None:
            hooks.run_all(config.hooks, "startContainer",
                          hook_state | {"pid": os.getpid(), "status": "created"})
        trace.step("init", f"started: execve {path}")
        with step(f"exec {path}"):
            kernel.execve(path, config.process.args, env)
    except BaseException as e:
        try:
            os.write(fd, describe(e).encode())
        except OSError:
            pass
        raise
    os.close(fd)  # (only with a fake kernel, whose execve returns)


def create_hooks(config: Config, sync: Sync) -> dict | None:
    """The hooks of `create`, mounts done, before pivot_root (see hooks.py): the
    runtime runs prestart and createRuntime when asked, and answers with the state;
    then createContainer runs here, in the container's namespaces, from the rootfs.
    Returns that state for startContainer, or None when there are no such hooks."""
    kinds = ("prestart", "createRuntime", "createContainer", "startContainer")
    if not any(config.hooks.get(kind) for kind in kinds):
        return None
    sync.send(type="hooks")
    reply = sync.recv()
    if reply is None or reply.get("type") != "hooks-done":
        raise ContainerError("create: the runtime did not run its hooks")
    state: dict = reply["state"]
    os.chdir(config.rootfs)
    hooks.run_all(config.hooks, "createContainer", state | {"pid": os.getpid()})
    return state


def exec_intermediate(
    join_files: list[str],
    join: list[tuple[str, str]],
    proc: Process,
    policy: Seccomp | None,
    sync: Sync,
    child_sync: Sync,
    stdio: tuple[int, int, int] | None,
    console_socket: socket.socket | None,
    persona: int | None = None,
) -> NoReturn:
    """`exec`: the same dance, but joining the container's namespaces instead."""
    try:
        close_other_fds(_keep([sync, child_sync], stdio, console_socket))
        process.set_oom_score_adj(LINUX, proc)  # host root still: see there
        enter_container(LINUX, join_files, join)
        pid = os.fork()  # the child lands in the container's pid namespace
        if pid == 0:
            sync.sock.close()
            _as_child(child_sync,
                      lambda: exec_process(LINUX, proc, policy, stdio, console_socket,
                                           persona))
        child_sync.sock.close()
        sync.send(type="pid", pid=pid)
        os._exit(0)
    except BaseException as e:
        _fail(sync, e)


def enter_container(kernel: Kernel, join_files: list[str],
                    join: list[tuple[str, str]]) -> None:
    """exec's way in: non-dumpable first, then the container's cgroup and namespaces.

    This process is a fork of the daemon (of runc, in stages 3 and 4): its memory holds
    what the daemon held, other containers' environments among it, and its
    /proc/PID/exe is the host's Python. Its child appears in the container's pid
    namespace, where the container's processes can see it in /proc; while it is
    dumpable, one with the same uid and capabilities (as the child has once it has
    become the exec's user) may read its memory (/proc/PID/mem) or open its exe. A
    non-dumpable process's /proc files belong to root and ask CAP_SYS_PTRACE of such a
    reader, which no container has by default. So, as runc's nsexec.c does before its
    first setns: non-dumpable now, before anything of the container's is joined, and
    for the child, which inherits it across fork.

    execve gives it back (fs/exec.c, begin_new_exec: dumpable again for a program run
    with unchanged ids that its user can read). That is safe: execve has replaced the
    memory with the new program's, nothing of the daemon's is left, and /proc/PID/exe
    is then the container's own binary, in its own rootfs."""
    kernel.prctl(syscalls.PR_SET_DUMPABLE, 0, what="PR_SET_DUMPABLE 0 (before joining)")
    _join_cgroup(join_files)
    namespaces.join(kernel, join)


def exec_process(
    kernel: Kernel,
    proc: Process,
    policy: Seccomp | None,
    stdio: tuple[int, int, int] | None,
    console_socket: socket.socket | None,
    persona: int | None = None,
) -> None:
    """An exec'd process's steps. Success is silence: the sync socket is
    close-on-exec, so the caller reads EOF the moment execve succeeds, and an error
    message (from exec_intermediate) if it did not. `policy`: the container's seccomp
    filter, which every process in it runs under (a process joining the container is
    not a child of its init, so it does not inherit it: it loads its own copy)."""
    kernel.setsid()
    path, env = _prepare_process(kernel, proc, policy, stdio, console_socket, persona)
    with step(f"exec {path}"):
        kernel.execve(path, proc.args, env)
