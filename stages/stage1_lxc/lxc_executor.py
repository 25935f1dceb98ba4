"""Stage 1's executor: the daemon writes an LXC config and runs the LXC tools.

This is Docker 0.1's only "execution driver": for every container the daemon wrote
a config file and ran `lxc-start -n ID -f CONFIG -- /.dockerinit ... CMD`, kept
lxc-start as its child, and waited for it. Here it is again, with LXC 5's tools:

    create   write `config` (lxc_config.render) and a hook script in the container's
             state dir, then `lxc-start -F -P STATE_ROOT -n ID -f config -- CMD`.
             LXC has no "created" state; its start-host hook gives it one (it writes
             the init's pid, then waits on a FIFO).
    start    write to that FIFO: LXC execs the init.
    wait     waitpid on lxc-start, our child; see "exit codes" below.
    kill     a signal to the init's pid; SIGKILL to every process is `lxc-stop -k`.
    exec     `lxc-attach -n ID --clear-env -v K=V -u UID -g GID -- CMD`.
    delete   kill what is left, remove what LXC leaves (lxc_leftovers) and the state.

Why lxc-start and not lxc-execute. `lxc-execute` passes the exit code through, but
it runs LXC's own init (`init.lxc.static`, bound into the container) as pid 1 and
the command as pid 2: `echo $$` says 2, `docker stop` of a `sleep` that should ignore
SIGTERM as pid 1 kills it at once, and `/proc/1/cmdline` is not the user's. Docker
0.1 made the user's command pid 1 (its /.dockerinit exec'd it), and so does
`lxc-start -- CMD`. Its price: lxc-start exits 0 whatever the init did.

Exit codes. LXC knows the init's status: its monitor (lxc-start itself, with -F)
reaps the init and logs "Child <pid> ended on error (N)" or "... on signal NAME(N)"
at INFO level, then forgets it. So the config asks for an INFO log in the state dir
and `wait` reads the status back from it (0 when there is no such line).

Standard I/O. Without a terminal (`lxc.console.path = none`) the init inherits
lxc-start's stdin, stdout and stderr: the daemon's FIFOs, opened here. With one, LXC
makes a pty inside the container (the init sees /dev/pts/0) and copies it to
lxc-start's own terminal: a pty the executor owns (lxc_terminal: raw, and locked so,
since LXC would turn its output processing on), whose master is copied to and from
the FIFOs by shared/terminal.py as in stages 2 to 4. `resize` sets the master's size;
the kernel sends lxc-start the SIGWINCH that makes it pass the size on. `lxc-attach`
does the same for an exec whose stdin is a terminal.

Network. LXC makes the container's network namespace and its veths itself, from the
`lxc.net.N` keys lxc_config writes out of the daemon's plan (the endpoints the
network manager planned: bridge, host end's name, address, MAC), as Docker 0.1 let
LXC do; `makes_network_links` tells the daemon so. The daemon pins the namespace once
`create` returns the init's pid, and does the rest (NAT, published ports, DNS, `network
connect`) as in every stage.

OOM. LXC removes the container's cgroup before lxc-start exits, so the OOM count is
saved by the hook LXC runs at "stop", while the cgroup still exists.

The tools or the library. The tools are the default, as in 2013. `api="python"`
(the daemon's --lxc-api, or WB_LXC_API) drives liblxc through its Python bindings
instead (lxc_bindings): the same config, the same processes, the same log.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

from shared import cgroupstats, trace
from shared.daemon.children import ParentExecutor, Process, open_fifos
from shared.daemon.executor import (
    CommandNotExecutable,
    CommandNotFound,
    ExecutorError,
    ExitStatus,
    IOConfig,
)
from shared.oci import lookpath
from shared.oci.confinement import CAPABILITIES
from shared.oci.runtime_spec import INIT_IN_CONTAINER
from shared.privatedirs import private_file
from shared.securejoin import secure_join
from shared.terminal import copy_terminal
from stages.stage1_lxc import lxc_bindings, lxc_config, lxc_leftovers
from stages.stage1_lxc.lxc_leftovers import CGROUP_ROOT, cgroup_version, hierarchies
from stages.stage1_lxc.lxc_terminal import open_pty

CREATE_TIMEOUT = 30.0
# The static busybox of the host, bound into each container read-only, like Docker
# 0.1's /.dockerinit: lxc-attach has no --cwd (it keeps its caller's directory), so
# an exec with a working directory runs `cd DIR && exec CMD` through it; and an init
# whose environment cannot be config lines gets it through it (lxc_config.environment).
EXEC_HELPER_SOURCE = "/bin/busybox"
EXEC_HELPER = "/.whalebones/busybox"  # busybox picks its applet by argv[0]: keep the name
APIS = ("tools", "python")  # LXC's command-line tools, or liblxc through python3-lxc
# "Child <123> ended on error (3)" / "Child <123> ended on signal Killed(9)"
ENDED = re.compile(rb"Child <\d+> ended on (error|signal) [^(]*\((\d+)\)")


def oom_files(cgroup: str) -> list[str]:
    """The files whose `oom_kill N` line counts the OOM killer's kills in a cgroup."""
    if cgroup_version() == 1:
        return [os.path.join(CGROUP_ROOT, "memory", cgroup, "memory.oom_control")]
    return [os.path.join(CGROUP_ROOT, cgroup, "memory.events")]


def check_command(rootfs: str, name: str, env: list[str]) -> None:
    """Fail as Docker does if the command cannot run: LXC would only log it.

    Looked up from the host in the container's root, with the container's own PATH.
    """
    path = next((e[5:] for e in env if e.startswith("PATH=")), lookpath.DEFAULT_PATH)
    try:
        lookpath.look_path(name, path, root=rootfs)
    except lookpath.NotFound as e:
        raise CommandNotFound(str(e)) from None
    except lookpath.NotExecutable as e:
        raise CommandNotExecutable(str(e)) from None


def carry_environment(env: list[str]) -> int | None:
    """A memfd holding the init's environment as lxc_config.carried_script, for an
    environment that cannot be config lines; None for one that can."""
    if not lxc_config.needs_carrier(env):
        return None
    if not os.path.exists(EXEC_HELPER_SOURCE):
        raise ExecutorError(f"process.env: an environment that cannot be LXC config lines "
                            f"needs {EXEC_HELPER_SOURCE} (see lxc_config.environment)")
    fd = os.memfd_create("whalebones-env")  # close-on-exec: only pass_fds hands it on
    try:
        os.write(fd, lxc_config.carried_script(env, EXEC_HELPER, fd))
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def beyond_init_caps(init_pid: int, process: dict) -> bool:
    """Whether an exec asks for capabilities its container's init lacks (`docker exec
    --privileged`, runtime_spec.exec_process). lxc-attach gives an exec the container's
    (its lxc.cap.keep) or, elevated, all of its own, which are the daemon's: the
    capabilities `--privileged` stands for. It has nothing in between."""
    wanted = set((process.get("capabilities") or {}).get("bounding") or [])
    try:
        with open(f"/proc/{init_pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return False
    bits = int(fields["CapBnd"].strip(), 16)
    held = {name for number, name in enumerate(CAPABILITIES) if bits >> number & 1}
    return bool(wanted - held)


def make_mount_points(rootfs: str, spec: dict) -> None:
    """With a read-only root (`--read-only`, lxc.rootfs.options = ro), LXC cannot make
    the mount points its entries ask for (`create=file`: /etc/hosts in an image that
    has none, the exec helper's /.whalebones/busybox): they are made here first, in
    the daemon's writable view of the same root, as dockerd makes them in the
    container's layer. /dev is LXC's own tmpfs (autodev), made writable: skipped."""
    wanted = [(EXEC_HELPER, False)] if os.path.exists(EXEC_HELPER_SOURCE) else []
    for m in spec.get("mounts", []):
        dest = m["destination"]
        if m.get("type") in lxc_config.AUTO_MOUNTS or dest == "/dev" or dest.startswith("/dev/"):
            continue
        source = m.get("source") or ""
        is_bind = m.get("type") == "bind" or "bind" in (m.get("options") or [])
        wanted.append((dest, not is_bind or os.path.isdir(source)))
    for dest, is_dir in wanted:
        path = secure_join(rootfs, dest)
        if is_dir:
            os.makedirs(path, exist_ok=True)
        elif not os.path.lexists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()


@dataclass(kw_only=True)
class Tool(Process):
    """An LXC tool we started: lxc-start (a container) or lxc-attach (an exec)."""

    popen: subprocess.Popen[bytes]

    def wait_exit(self) -> int:
        # Through subprocess, not waitpid: create, start and delete poll() it meanwhile.
        return self.popen.wait()

    def send_signal(self, signal: int) -> None:
        # Popen sends nothing once it has reaped the tool: by then the pid may be another's.
        self.popen.send_signal(signal)


@dataclass
class Container:
    cid: str
    state_dir: str
    rootfs: str
    cgroup: str  # relative to each hierarchy, e.g. whalebones/<id>
    pid: int = 0  # the init, as the host sees it
    started: bool = False

    def path(self, name: str) -> str:
        return os.path.join(self.state_dir, name)


class LxcExecutor(ParentExecutor[Container, Tool]):
    name = "lxc"
    makes_network_links = True  # LXC makes the namespace and veths (lxc_config.network)
    containers_outlive_daemon = False  # lxc-start is the daemon's child, its pipes ours
    containers_outlive_containerd = False

    def __init__(self, state_root: str, api: str = "tools") -> None:
        if api not in APIS:
            raise ValueError(f"LXC API {api!r}: one of {', '.join(APIS)}")
        if api == "python":
            lxc_bindings.load()  # ImportError now, not at the first container
        super().__init__()
        self.api = api
        # lxc-start's -P: LXC keeps a container's files in <state_root>/<id>/, ours too.
        self.state_root = os.path.abspath(state_root)
        os.makedirs(self.state_root, mode=0o700, exist_ok=True)

    # ------------------------------------------------------------ helpers

    def _spawn(self, argv: list[str], io: IOConfig, size: dict | None = None,
               pass_fds: tuple[int, ...] = (), env: dict[str, str] | None = None) -> Tool:
        """Run an LXC tool with the container's stdio: the FIFOs, or a pty of ours;
        `pass_fds`: descriptors it inherits too (lxc_config.environment); `env`: its
        environment (an exec's own, which the tool passes on), else the daemon's."""
        if env is not None:  # not the daemon's: the tool is found on the daemon's PATH
            argv = [shutil.which(argv[0]) or argv[0], *argv[1:]]
        if io.terminal:
            master, slave = open_pty(size)
            try:
                # `setsid --ctty`: a session of its own, with this pty as its controlling
                # terminal. lxc-start talks to its terminal through /dev/tty, which is
                # only there with one, and the kernel sends SIGWINCH on a resize only to
                # a controlling terminal's foreground process group.
                popen = subprocess.Popen([shutil.which("setsid") or "setsid", "--ctty", *argv],
                                         stdin=slave, stdout=slave, stderr=slave, cwd="/",
                                         pass_fds=pass_fds, env=env)
            except BaseException:
                os.close(master)
                raise
            finally:
                os.close(slave)
            proc = Tool(pid=popen.pid, popen=popen, master=master)
            proc.threads = copy_terminal(master, io.stdin, io.stdout)
            return proc
        stdin, stdout, stderr = open_fifos(io)
        try:
            # cwd "/": lxc-attach enters the container in its caller's directory.
            popen = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr,
                                     start_new_session=True, cwd="/", pass_fds=pass_fds,
                                     env=env)
        finally:
            for fd in {stdin, stdout, stderr}:
                os.close(fd)
        return Tool(pid=popen.pid, popen=popen)

    def _init_status(self, c: Container, returncode: int) -> ExitStatus:
        """How the init ended, from LXC's log (see the module docstring)."""
        code = 0
        try:
            with open(c.path("lxc.log"), "rb") as f:
                found = ENDED.findall(f.read())
        except OSError:
            found = []
        if found:
            how, number = found[-1]
            code = int(number) + (128 if how == b"signal" else 0)
        elif returncode != 0:
            code = 255  # LXC itself failed (its error is in lxc.log)
        oom = False
        try:
            with open(c.path("oom")) as f:
                counts = [ln.split() for ln in f]
            oom = any(w[0] == "oom_kill" and w[1] != "0" for w in counts if len(w) == 2)
        except OSError:
            oom = False
        return ExitStatus(code=code, exited_at=time.time(), oom_killed=oom)

    def _lxc_errors(self, c: Container) -> str:
        try:
            with open(c.path("lxc.log"), errors="replace") as f:
                errors = [ln.split(" - ", 2)[-1].strip() for ln in f if " ERROR " in ln]
        except OSError:
            errors = []
        return "; ".join(errors[:3]) or "see " + c.path("lxc.log")

    # ------------------------------------------------------------ Executor

    def create(self, cid: str, spec: dict, io: IOConfig) -> int:
        try:
            return self._create(cid, spec, io)
        except (OSError, ValueError) as e:
            # An ExecutorError, never another: the daemon then deletes what was made.
            raise ExecutorError(f"create {cid}: {e}") from None

    def _create(self, cid: str, spec: dict, io: IOConfig) -> int:
        process = spec["process"]
        rootfs = spec["root"]["path"]
        env = process.get("env", [])
        if process["args"][0] != INIT_IN_CONTAINER:  # --init: bound there, not in the image
            check_command(rootfs, process["args"][0], env)  # (tini says if CMD is missing)
        state_dir = os.path.join(self.state_root, cid)
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        cgroup = spec.get("linux", {}).get("cgroupsPath", f"/whalebones/{cid}").strip("/")
        c = Container(cid, state_dir, rootfs, cgroup)
        paths = lxc_config.Paths(
            state_dir=state_dir,
            log=c.path("lxc.log"),
            rootfs_mount=c.path("rootfs-mount"),
            hook=c.path("hooks.sh"),
        )
        os.makedirs(paths.rootfs_mount, exist_ok=True)
        os.mkfifo(c.path("start"), 0o600)
        with open(paths.hook, "w") as f:
            f.write(lxc_config.hook_script(paths, c.path("start"), c.path("pid"),
                                           oom_files(cgroup), c.path("oom"),
                                           lxc_config.namespaced_sysctls(spec)))
        if spec["root"].get("readonly"):
            make_mount_points(rootfs, spec)
        config = lxc_config.render(spec, paths, cgroup_version())
        profile = lxc_config.seccomp_profile(spec)
        if profile is not None:
            with open(lxc_config.seccomp_path(paths), "w") as f:
                f.write(profile)
        if os.path.exists(EXEC_HELPER_SOURCE):
            config += "\n# for exec with a working directory (see lxc_executor)\n"
            config += lxc_config.line(
                "lxc.mount.entry",
                f"{EXEC_HELPER_SOURCE} {EXEC_HELPER[1:]} none bind,ro,create=file,optional 0 0",
            ) + "\n"
        with private_file(c.path("config")) as f:  # root's alone: it holds the env
            f.write(config)

        carrier = carry_environment(env)
        try:
            command = process["args"]
            if carrier is not None:
                command = lxc_config.init_command(command, env, EXEC_HELPER, carrier)
            if self.api == "python":  # <state_root>/<id>/config: where liblxc looks for it
                argv = lxc_bindings.argv("start", self.state_root, cid, "--", *command)
            else:  # -q: LXC's own messages go to its log, not into the container's stderr
                argv = ["lxc-start", "-F", "-q", "-P", self.state_root, "-n", cid,
                        "-f", c.path("config"), "--", *command]
            with trace.span("daemon", "call", f"{argv[0]} (until the init is set up)", "lxc"):
                proc = self._spawn(argv, io, process.get("consoleSize"),
                                   () if carrier is None else (carrier,))
                try:
                    c.pid = self._wait_for_pid(c, proc)
                except BaseException:
                    self._stop_monitor(c, proc)
                    raise
        finally:
            if carrier is not None:
                os.close(carrier)  # lxc-start has its copy, the init reads it
        self._keep(cid, None, proc, container=c)
        self._reap(proc, lambda rc: self._init_status(c, rc))
        return c.pid

    def _wait_for_pid(self, c: Container, proc: Tool) -> int:
        """Until the start-host hook has written the init's pid (or lxc-start failed)."""
        deadline = time.monotonic() + CREATE_TIMEOUT
        delay = 0.0005
        while time.monotonic() < deadline:
            try:
                with open(c.path("pid")) as f:
                    return int(f.read())
            except (FileNotFoundError, ValueError):
                pass
            if proc.popen.poll() is not None:
                raise ExecutorError(f"lxc-start {c.cid}: {self._lxc_errors(c)}")
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
        raise ExecutorError(f"lxc-start {c.cid}: no init after {CREATE_TIMEOUT:.0f} s")

    def _release_hook(self, c: Container, proc: Tool) -> None:
        """Write to the start FIFO: the hook blocked in `read` returns, LXC goes on."""
        while proc.popen.poll() is None:
            try:
                fd = os.open(c.path("start"), os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO:  # ENXIO: the hook has not opened it yet
                    raise
                time.sleep(0.001)
                continue
            try:
                os.write(fd, b"go\n")
            finally:
                os.close(fd)
            return

    def _stop_monitor(self, c: Container, proc: Tool) -> None:
        """Kill the init of a container that never ran, and let lxc-start finish."""
        if proc.popen.poll() is None:
            if c.pid:
                try:
                    os.kill(c.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self._release_hook(c, proc)
            try:
                proc.popen.wait(10)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait()

    def _stop(self, cid: str) -> bool:
        """LXC's own way to kill a container (`lxc-stop -k`, liblxc's stop): ask the
        monitor, over its command socket, to SIGKILL the init."""
        if self.api == "python":
            try:
                return lxc_bindings.stop(self.state_root, cid)
            except LookupError:
                return False
        result = subprocess.run(["lxc-stop", "-P", self.state_root, "-n", cid, "-k"],
                                capture_output=True, text=True)
        return result.returncode == 0

    def start(self, cid: str) -> None:
        c = self._container(cid)
        proc = self._proc(cid, None)
        try:
            with trace.span("daemon", "call", "release the start-host hook", "lxc"):
                self._release_hook(c, proc)
        except OSError as e:
            # An ExecutorError, never another: the daemon deletes what failed to start.
            raise ExecutorError(f"start {cid}: {e}") from None
        c.started = True

    def kill(self, cid: str, signal_: int, all: bool = False, exec_id: str | None = None) -> None:
        if exec_id is not None:
            # The exec's process is not the daemon's child: lxc-attach (or liblxc's
            # attach_wait) is, and LXC clones the attached process with CLONE_PARENT as
            # the tool's child. The signal goes to it, then to the tool; the tool alone
            # would die and leave the process running in the container (a health probe
            # past its timeout must end).
            proc = self._proc(cid, exec_id)
            if not proc.exited.is_set():
                for pid in _children(proc.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal_)
            self._signal_exec(cid, exec_id, signal_)
            return
        c = self._container(cid)
        if self._proc(cid, None).exited.is_set():
            raise ExecutorError(f"kill {cid}: container not running")
        if all and signal_ == signal.SIGKILL:
            # LXC's own way to kill everything: the monitor SIGKILLs the init, and
            # the kernel kills every other process of a pid namespace whose init dies.
            if self._stop(cid):
                return
        targets = self.pids(cid) if all else [c.pid]
        for pid in targets:
            try:
                os.kill(pid, signal_)
            except ProcessLookupError:
                if pid == c.pid:
                    raise ExecutorError(f"kill {cid}: no such process") from None

    def exec(self, cid: str, exec_id: str, process: dict, io: IOConfig) -> int:
        c = self._container(cid)
        env = process.get("env", [])
        args = list(process["args"])
        check_command(c.rootfs, args[0], env)
        cwd = process.get("cwd") or "/"
        uid, gid = str(process.get("user", {}).get("uid", 0)), str(
            process.get("user", {}).get("gid", 0))
        elevated = ["--elevated"] if beyond_init_caps(c.pid, process) else []
        # The exec's env travels as the tool's own environment, which it passes on
        # (--keep-env): never on its command line, which any user on the host can read
        # in /proc/PID/cmdline (its environ is root's alone).
        if self.api == "python" and not io.terminal:
            # liblxc's attach takes a working directory; python3-lxc cannot ask it for
            # a terminal, so `exec -t` takes lxc-attach below (see lxc_bindings).
            argv = lxc_bindings.argv("attach", "--uid", uid, "--gid", gid, "--cwd", cwd,
                                     *elevated, self.state_root, cid, "--", *args)
        else:
            if cwd != "/":
                args = [EXEC_HELPER, "sh", "-c", 'cd "$0" && exec "$@"', cwd, *args]
            argv = ["lxc-attach", "-P", self.state_root, "-n", cid, "--keep-env",
                    *(["--elevated-privileges=CAP"] if elevated else []),
                    "-u", uid, "-g", gid, "--", *args]
        environ = dict(entry.split("=", 1) for entry in env if "=" in entry)
        try:
            proc = self._spawn(argv, io, process.get("consoleSize"), env=environ)
        except OSError as e:
            raise ExecutorError(f"exec in {cid}: {e}") from None
        self._keep(cid, exec_id, proc)
        self._reap(proc)
        return proc.pid

    def pids(self, cid: str) -> list[int]:
        c = self._container(cid)
        # every v1 hierarchy holds the same processes: their union is any one's
        return sorted(lxc_leftovers.cgroup_procs([os.path.join(top, c.cgroup)
                                                  for top in hierarchies()]))

    def metrics(self, cid: str, pid: int) -> dict:
        """The daemon reads the container's cgroup itself (as dockerd asked libcontainer
        before containerd)."""
        self._container(cid)
        return cgroupstats.metrics(pid)

    def update(self, cid: str, resources: dict) -> None:
        """`docker update`: the same keys as the config's lxc.cgroup(2).* lines, each
        written into the running container's cgroup by its monitor (lxc-cgroup)."""
        self._container(cid)
        try:
            lines = lxc_config.cgroups({"linux": {"resources": resources}}, cgroup_version())
        except lxc_config.UnsupportedSpec as e:
            raise ExecutorError(f"update {cid}: {e}") from None
        for entry in lines:
            key, _, value = entry.partition(" = ")
            key = key.removeprefix("lxc.cgroup2.").removeprefix("lxc.cgroup.")
            if self.api == "python":
                try:
                    done = lxc_bindings.set_cgroup_item(self.state_root, cid, key, value)
                except LookupError as e:
                    raise ExecutorError(f"update {cid}: {e}") from None
                if not done:
                    raise ExecutorError(f"update {cid}: liblxc refused {key} = {value}")
                continue
            result = subprocess.run(["lxc-cgroup", "-P", self.state_root, "-n", cid, key, value],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise ExecutorError(f"update {cid}: {key} = {value}: {result.stderr.strip()}")

    def pause(self, cid: str) -> None:
        self._freeze(cid, True)

    def resume(self, cid: str) -> None:
        self._freeze(cid, False)

    def _freeze(self, cid: str, frozen: bool) -> None:
        """LXC's freezer, `lxc-freeze` (`lxc-unfreeze`): asked of the monitor, which
        writes FROZEN (THAWED) into the container's freezer cgroup."""
        self._container(cid)
        what = "freeze" if frozen else "unfreeze"
        if self.api == "python":
            try:
                done = lxc_bindings.freeze(self.state_root, cid, frozen)
            except LookupError as e:
                raise ExecutorError(f"{what} {cid}: {e}") from None
            if not done:
                raise ExecutorError(f"{what} {cid}: liblxc refused")
            return
        result = subprocess.run([f"lxc-{what}", "-P", self.state_root, "-n", cid],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise ExecutorError(f"lxc-{what} {cid}: {result.stderr.strip()}")

    def delete(self, cid: str) -> None:
        c, proc = self._forget(cid)
        cgroup = f"whalebones/{cid}" if c is None else c.cgroup
        cgroups = lxc_leftovers.container_cgroups(cgroup)
        failed = []
        if c is not None and proc is not None:
            # lxc-start reaped first: its last act is to make the pivot cgroup it dies in.
            self._stop_monitor(c, proc)
            proc.exited.wait(10)
        else:
            # Not ours: a container of a daemon that died before us. lxc-start may still
            # run it, its parent gone (see lxc_leftovers).
            try:
                lxc_leftovers.kill_cgroups(cgroups)
            except ExecutorError as e:
                failed.append(str(e))
        # LXC removes the container's cgroup and its monitor's, but not the pivot (nor
        # anything, after a crash); nor its lock file (see lxc_leftovers).
        for path in cgroups:
            try:
                lxc_leftovers.remove_cgroup_tree(path)
            except ExecutorError as e:
                failed.append(str(e))
        lxc_leftovers.remove_lock(self.state_root, cid)
        shutil.rmtree(os.path.join(self.state_root, cid), ignore_errors=True)
        if failed:
            raise ExecutorError(f"delete {cid}: " + "; ".join(failed[:3]))

    def close(self) -> None:
        # The daemon is going: no lxc-start of ours will need the lock directories.
        lxc_leftovers.remove_lock_dirs(self.state_root)


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc/PID/stat's fourth field)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        # the command name, in parentheses, may hold spaces: the fields after its end
        fields = stat[stat.rindex(b")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found
