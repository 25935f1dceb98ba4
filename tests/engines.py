"""Start and stop the engines the behaviour suite runs against.

An engine is anything that serves the Docker Engine API on a unix socket: one of our
stages, or a private real dockerd (the *reference*: proof the tests are honest). Each is
started in its own fresh directory, stopped by PID, and checked to leave nothing behind.

    ENGINES              engine name -> how to start it (add a stage with one line)
    start_engine(name)   a running Engine, busybox:latest already in its image store
    Engine.stop()        SIGTERM, SIGKILL after 10 s, then check no process is left
    snapshot(engine)     what of the engine's exists now (processes, mounts, cgroups),
    leaks(engine, before)  ...and what appeared since and is still there
    cgroups_left(before) empty cgroup directories made since `before` (start_engine
                         checks them once the engine has stopped)

Importable from any test directory: it depends only on the standard library.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCKER_CLI = "/usr/local/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
BUSYBOX = "/bin/busybox"
IMAGE_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CGROUP_ROOT = Path("/sys/fs/cgroup")
START_TIMEOUT = 30.0
STOP_GRACE = 10.0


def repo_env(**extra: str) -> dict[str, str]:
    """The environment for a child that runs the repo's Python code."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


# --- the engines --------------------------------------------------------------------


@dataclass
class Engine:
    """A running engine: where its socket is, which process it is, what it owns."""

    name: str
    ours: bool
    workdir: Path
    root: Path
    exec_root: Path
    socket: Path
    process: subprocess.Popen[bytes]
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Processes of the engine besides the daemon (containerd), stopped after it, and
    # how to start each again.
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    helper_commands: list[list[str]] = field(default_factory=list)
    # Ours: the first letters of the daemon's interfaces and iptables chains
    # (--net-prefix), its own so that engines side by side never share a bridge.
    net_prefix: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def log(self) -> Path:
        return self.workdir / "daemon.log"

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def kill_daemon(self) -> None:
        """kill -9 the daemon, as a crash would."""
        self.process.kill()
        self.process.wait()

    def restart_daemon(self) -> None:
        """Start the daemon again, as it was started, and wait until it answers."""
        if self.process.poll() is None:
            self.kill_daemon()
        fresh = launch(self.name, self.ours, self.workdir, self.root, self.exec_root,
                       self.socket, self.command, self.env)
        self.process = fresh.process

    def kill_helper(self, index: int = 0) -> None:
        self.helpers[index].kill()
        self.helpers[index].wait()

    def restart_helper(self, index: int = 0) -> None:
        """Start containerd (say) again with the same command line."""
        if self.helpers[index].poll() is None:
            self.kill_helper(index)
        command = self.helper_commands[index]
        self.helpers[index] = start_helper(self.workdir, command)
        address = command[command.index("--address") + 1].removeprefix("unix://")
        deadline = time.monotonic() + START_TIMEOUT
        while not accepts(address):
            if self.helpers[index].poll() is not None or time.monotonic() > deadline:
                raise EngineError(f"{self.name}: {command[2]} did not start again")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM by PID, SIGKILL after STOP_GRACE; then no process of it may be left."""
        family = descendants(self.pid) | processes_of(self.workdir)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self.notes.append(f"{self.name}: did not exit {STOP_GRACE:.0f} s after SIGTERM")
        for helper in self.helpers:
            family |= descendants(helper.pid)
            if helper.poll() is None:
                helper.send_signal(signal.SIGTERM)
                try:
                    helper.wait(STOP_GRACE)
                except subprocess.TimeoutExpired:
                    helper.kill()
                    helper.wait()
        left = wait_gone(family, deadline=5.0)
        if left:
            for proc in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
            raise EngineError(f"{self.name}: processes left after the daemon exited: {left}")


class EngineError(Exception):
    """An engine would not start, or did not stop cleanly."""


def net_prefix_args() -> tuple[str, ...]:
    """A prefix of its own for a test daemon's bridge, veths and chains (wb0 and
    WHALEBONES stay the user's): "wt" and four hex digits."""
    return ("--net-prefix", "wt" + os.urandom(2).hex())


def with_net_prefix(engine: Engine) -> Engine:
    if "--net-prefix" in engine.command:
        engine.net_prefix = engine.command[engine.command.index("--net-prefix") + 1]
    return engine


class OurStage:
    """A Whalebones stage: `python -m stages.<module> --root R --exec-root E --host H`."""

    ours = True

    def __init__(self, module: str) -> None:
        self.module = module

    def start(self, name: str, workdir: Path, daemon_args: tuple[str, ...] = ()) -> Engine:
        root, exec_root = workdir / "root", workdir / "exec"
        images = root / "images"
        images.mkdir(parents=True)
        run_checked([sys.executable, "-m", "shared.images.busybox", "--root", str(images)],
                    what="build busybox:latest", env=repo_env())
        sock = workdir / "docker.sock"
        command = [sys.executable, "-m", self.module, "--root", str(root),
                   "--exec-root", str(exec_root), "--host", f"unix://{sock}",
                   *net_prefix_args(), *daemon_args]
        return with_net_prefix(
            launch(name, True, workdir, root, exec_root, sock, command, env=repo_env()))


class OurSplitStage(OurStage):
    """Stage 3 and later: containerd first (its own process, its own socket), then the
    daemon pointed at it. The runtime is $RUNTIME, else our bin/whalebones-runc."""

    def start(self, name: str, workdir: Path, daemon_args: tuple[str, ...] = ()) -> Engine:
        root, exec_root = workdir / "root", workdir / "exec"
        (root / "images").mkdir(parents=True)
        run_checked([sys.executable, "-m", "shared.images.busybox", "--root",
                     str(root / "images")], what="build busybox:latest", env=repo_env())
        containerd_sock = workdir / "containerd.sock"
        runtime = os.environ.get("RUNTIME") or str(REPO / "bin" / "whalebones-runc")
        containerd_command = [
            sys.executable, "-m", f"{self.module}.containerd",
            "--address", f"unix://{containerd_sock}", "--root", str(root / "containerd"),
            "--state", str(exec_root / "containerd"), "--runtime", runtime]
        containerd = start_helper(workdir, containerd_command)
        sock = workdir / "docker.sock"
        command = [sys.executable, "-m", self.module, "--root", str(root),
                   "--exec-root", str(exec_root), "--host", f"unix://{sock}",
                   "--containerd", f"unix://{containerd_sock}", *net_prefix_args(), *daemon_args]
        try:
            engine = with_net_prefix(
                launch(name, True, workdir, root, exec_root, sock, command, env=repo_env()))
        except BaseException:
            containerd.terminate()
            containerd.wait()
            raise
        engine.helpers.append(containerd)
        engine.helper_commands.append(containerd_command)
        return engine


# Engines start as a service manager would start them: every signal at its default
# (tests/as_a_service.py says why). The pid stays the daemon's: it execs.
AS_A_SERVICE = [sys.executable, "-m", "tests.as_a_service"]


def start_helper(workdir: Path, command: list[str]) -> subprocess.Popen[bytes]:
    """containerd: its own session, its log appended to workdir/containerd.log."""
    log = open(workdir / "containerd.log", "ab")  # noqa: SIM115 - the child keeps it
    with log:
        return subprocess.Popen([*AS_A_SERVICE, *command], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, env=repo_env(), cwd=REPO,
                                start_new_session=True)


class ReferenceDockerd:
    """A private real dockerd: its own data root, exec root and socket, no bridge."""

    ours = False

    def start(self, name: str, workdir: Path) -> Engine:
        root, exec_root, sock = workdir / "data", workdir / "exec", workdir / "docker.sock"
        command = [DOCKERD, "--data-root", str(root), "--exec-root", str(exec_root),
                   "-H", f"unix://{sock}", "--pidfile", str(workdir / "dockerd.pid"),
                   "--bridge=none", "--iptables=false"]
        engine = launch(name, False, workdir, root, exec_root, sock, command, env=dict(os.environ))
        try:
            load_busybox_into_dockerd(engine)
        except BaseException:
            engine.stop()
            raise
        return engine


# Engine name -> how to start it. A new stage is one line here; no test is copied.
ENGINES: dict[str, OurStage | ReferenceDockerd] = {
    "stage1": OurStage("stages.stage1_lxc"),
    "stage2": OurStage("stages.stage2_libcontainer"),
    "stage3": OurSplitStage("stages.stage3_containerd"),
    "stage4": OurSplitStage("stages.stage4_shim"),
    "reference": ReferenceDockerd(),
}


@contextlib.contextmanager
def start_engine(name: str, daemon_args: tuple[str, ...] = ()) -> Iterator[Engine]:
    """Run engine `name` in a fresh directory for the duration of the block (one of
    ours with `daemon_args` added to its daemon's command line)."""
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
    workdir = Path(tempfile.mkdtemp(prefix=f"wb-{name}-", dir="/tmp"))
    cgroups_before = set(cgroup_dirs())
    try:
        starter = ENGINES[name]
        engine = (starter.start(name, workdir, daemon_args)  # type: ignore[call-arg]
                  if daemon_args else starter.start(name, workdir))
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)  # the error carries the daemon's log
        raise
    try:
        yield engine
    finally:
        problems = []
        try:
            engine.stop()
        except EngineError as e:
            problems.append(str(e))  # and the cgroups its killed processes left, below
        mounts = mounts_under(workdir)
        # dockerd's own business (overlay, shm, netns files) is not a leak of ours; a
        # stopped dockerd normally unmounts them, but never leave the host with any
        for point in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False)
        if mounts and engine.ours:
            problems.append(f"mounts left after the daemon exited: {mounts}")
        network = network_leftovers(engine)
        if network:
            remove_network_leftovers(engine)
            problems.append(f"left after the daemon exited: {network}")
        cgroups = cgroups_left(cgroups_before)
        if cgroups:
            remove_cgroups(cgroups)
            problems.append(f"cgroups left after the daemon exited: {cgroups}")
        if problems:
            raise EngineError(f"{name}: " + "; ".join(problems))
        shutil.rmtree(workdir, ignore_errors=True)


def remove_all_and_check(engine: Engine, before: Snapshot) -> None:
    """`docker rm -f` every container, then nothing may be left that was not there
    `before` (processes, mounts, cgroups, interfaces, rules)."""
    docker = [DOCKER_CLI, "-H", engine.host]
    ids = subprocess.run([*docker, "ps", "-aq"], capture_output=True, text=True,
                         timeout=60).stdout.split()
    if ids:
        subprocess.run([*docker, "rm", "-f", *ids], capture_output=True, timeout=120)
    left = leaks(engine, before)
    assert left == [], f"{engine.name} leaked: {left}"


def launch(name: str, ours: bool, workdir: Path, root: Path, exec_root: Path, sock: Path,
           command: list[str], env: dict[str, str]) -> Engine:
    """Start the daemon process, then wait until `GET /_ping` answers on its socket."""
    log = open(workdir / "daemon.log", "wb")  # noqa: SIM115 - the child keeps it open
    with log:
        process = subprocess.Popen([*AS_A_SERVICE, *command], stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, env=env, cwd=REPO,
                                   start_new_session=True)
    engine = Engine(name, ours, workdir, root, exec_root, sock, process, command, env)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EngineError(f"{name} exited with {process.returncode} while starting "
                              f"({' '.join(command)}):\n{engine.log_tail()}")
        if ping(sock):
            return engine
        time.sleep(0.05)
    engine.stop()
    raise EngineError(f"{name}: no answer to GET /_ping on {sock} after {START_TIMEOUT} s:\n"
                      f"{engine.log_tail()}")


def accepts(path: str) -> bool:
    """Whether something listens on the unix socket at `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(path)
            return True
        except OSError:
            return False


def ping(sock: Path) -> bool:
    try:
        conn = UnixHTTPConnection(str(sock), timeout=2)
        conn.request("GET", "/_ping")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client speaking to a unix socket instead of a TCP port."""

    def __init__(self, path: str, timeout: float = 60) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def run_checked(command: list[str], what: str, **kwargs: object) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise EngineError(f"{what}: {' '.join(command)} exited {result.returncode}:\n"
                          f"{result.stdout}{result.stderr}")
    return result


# --- busybox for the reference ------------------------------------------------------


def load_busybox_into_dockerd(engine: Engine) -> None:
    """`docker load` our busybox archive; if that cannot be made, import a busybox rootfs.

    The archive is the honest choice (the very image our stages run); the import keeps
    the reference usable while the builder is unfinished, and says so in engine.notes.
    """
    docker = [DOCKER_CLI, "-H", engine.host]
    archive = engine.workdir / "busybox.tar"
    build = subprocess.run(
        [sys.executable, "-m", "shared.images.busybox", "--root", str(engine.workdir / "bbstore"),
         "--save", str(archive)], capture_output=True, text=True, env=repo_env(), timeout=120)
    if build.returncode == 0:
        load = subprocess.run([*docker, "load", "-i", str(archive)], capture_output=True,
                              text=True, timeout=120)
        if load.returncode == 0 and has_busybox(docker):
            engine.notes.append("reference: busybox:latest loaded from shared.images.busybox")
            return
        why = f"docker load failed: {load.stderr.strip() or load.stdout.strip()}"
    else:
        why = f"shared.images.busybox --save failed: {build.stderr.strip().splitlines()[-1:]}"
    rootfs = engine.workdir / "busybox-rootfs.tar"
    write_busybox_rootfs(rootfs)
    run_checked([*docker, "import", "--change", 'CMD ["sh"]', "--change", f"ENV {IMAGE_PATH}",
                 str(rootfs), "busybox:latest"], what="docker import busybox")
    engine.notes.append(f"reference: busybox:latest imported from {BUSYBOX} ({why})")


def has_busybox(docker: list[str]) -> bool:
    out = subprocess.run([*docker, "image", "inspect", "busybox:latest"], capture_output=True)
    return out.returncode == 0


def write_busybox_rootfs(path: Path) -> None:
    """A rootfs tar like `busybox --install -s`: one binary, a symlink per applet."""
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    files = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"
                      "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                      "nobody:x:65534:65534:nobody:/home:/bin/false\n",
        "etc/group": "root:x:0:\ndaemon:x:1:\nnobody:x:65534:\n",
    }
    dirs = {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "home", "root", "tmp", "var",
            "dev", "proc", "sys"}

    def entry(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = kind, mode, 1363000000
        return info

    with tarfile.open(path, "w") as tar:
        for d in sorted(dirs):
            tar.addfile(entry(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755))
        tar.add(BUSYBOX, "bin/busybox")
        for applet in applets:
            if applet != "bin/busybox":
                link = entry(applet, tarfile.SYMTYPE, 0o777)
                link.linkname = "/bin/busybox"
                tar.addfile(link)
        for name, text in files.items():
            data = text.encode()
            info = entry(name, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


# --- what an engine leaves behind ---------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int  # start time in clock ticks: tells a pid apart from its reuse
    command: str

    def alive(self) -> bool:
        found = read_proc(self.pid)
        return found is not None and found.start == self.start


def read_proc(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name is in parentheses and may itself contain spaces or parentheses
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None  # a zombie is already dead; only its parent's wait is missing
    return Proc(pid, int(fields[19]), comm)


def parents() -> dict[int, int]:
    """pid -> parent pid for every process on the host."""
    result: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(entry.path, "stat").read_text()
                result[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    return result


def descendants(pid: int) -> set[Proc]:
    """Every live process below `pid` (children, grandchildren...)."""
    tree = parents()
    children: dict[int, list[int]] = {}
    for child, parent in tree.items():
        children.setdefault(parent, []).append(child)
    found: set[Proc] = set()
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        proc = read_proc(p)
        if proc is not None:
            found.add(proc)
        todo.extend(children.get(p, []))
    return found


def processes_of(workdir: Path) -> set[Proc]:
    """Processes that name the engine's directory on their command line (a shim is
    re-parented away from containerd, but its arguments say whose it is), and every
    process below them (the containers)."""
    needle = str(workdir).encode()
    found: set[Proc] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            proc = read_proc(int(entry.name))
            if proc is not None:
                found.add(proc)
                found |= descendants(proc.pid)
    return found


def wait_gone(procs: set[Proc], deadline: float) -> list[Proc]:
    end = time.monotonic() + deadline
    while True:
        left = sorted((p for p in procs if p.alive()), key=lambda p: p.pid)
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


def mounts_under(*dirs: Path) -> list[str]:
    """Mount points in our mount namespace under any of `dirs`."""
    prefixes = [str(d).rstrip("/") + "/" for d in dirs]
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if any((point + "/").startswith(p) for p in prefixes):
            points.append(point)
    return points


def cgroup_dirs() -> dict[str, set[str]]:
    """Our cgroups: directory -> pids in it, under /sys/fs/cgroup/*/whalebones/ (v1,
    one tree per controller) and /sys/fs/cgroup/whalebones/ (pure v2, one tree)."""
    found: dict[str, set[str]] = {}
    for top in [*CGROUP_ROOT.glob("*/whalebones"), CGROUP_ROOT / "whalebones"]:
        if not top.is_dir():
            continue
        for dirpath, _dirs, _files in os.walk(top):
            if dirpath == str(top):
                continue
            try:
                procs = set(Path(dirpath, "cgroup.procs").read_text().split())
            except OSError:
                procs = set()
            found[dirpath] = procs
    return found


def cgroups_left(before: set[str], deadline: float = 5.0) -> list[str]:
    """Our cgroup directories made since `before` that are still there, empty, once
    everything that used them is gone: a cgroup lasts until someone rmdirs it, so a
    runtime cut short (a containerd or shim killed before `delete`) leaves it. Every
    hierarchy counts: each v1 controller's and the unified one (cgroup_dirs).

    An empty one only: another engine on this host may be running a container of its
    own in a new cgroup meanwhile, and one made just now is empty for a moment (so
    only those empty from the first look on count). Polls until `deadline`, as a
    runtime removes its cgroup a moment after the last process in it died."""
    end = time.monotonic() + deadline
    left = {d for d, procs in cgroup_dirs().items() if d not in before and not procs}
    while left:
        left &= {d for d, procs in cgroup_dirs().items() if not procs}
        if not left or time.monotonic() > end:
            break
        time.sleep(0.1)
    return sorted(left)


def remove_cgroups(directories: list[str]) -> None:
    """rmdir empty cgroups left behind (deepest first), so that the host stays clean."""
    for d in sorted(directories, key=len, reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(d)


def our_links(prefix: str) -> set[str]:
    """Interfaces named with the engine's prefix: its bridges and veths' host ends."""
    if not prefix:
        return set()
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    names = {line.split(": ")[1].split("@")[0] for line in out.splitlines() if ": " in line}
    return {n for n in names if n.startswith(prefix)}


def our_rules(prefix: str) -> set[str]:
    """iptables rules in or jumping to the engine's chains (WB-<PREFIX>...)."""
    if not prefix:
        return set()
    chain = f"WB-{prefix.upper()}"
    found = set()
    for table in ("nat", "filter"):
        out = subprocess.run(["iptables", "-w", "-t", table, "-S"], capture_output=True,
                             text=True).stdout
        found |= {f"{table}: {line}" for line in out.splitlines()
                  if any(w == chain or w.startswith(chain + "-") for w in line.split())}
    return found


def netns_files(engine: Engine) -> set[str]:
    """The engine's network namespace files and sandbox records (exec root/*/netns)."""
    return {str(p) for p in engine.exec_root.glob("*/netns/*")}


def network_leftovers(engine: Engine) -> list[str]:
    """After the daemon exited: any interface, rule or namespace of it is a leak."""
    found = []
    if engine.ours:
        links, rules = our_links(engine.net_prefix), our_rules(engine.net_prefix)
        if links:
            found.append("interfaces " + ", ".join(sorted(links)))
        if rules:
            found.append("iptables rules " + "; ".join(sorted(rules)))
        files = netns_files(engine)
        if files:
            found.append("netns files " + ", ".join(sorted(files)))
    return found


def remove_network_leftovers(engine: Engine) -> None:
    """Never leave the host with a failed test's bridges or rules (ours only, by prefix)."""
    for name in our_links(engine.net_prefix):
        subprocess.run(["ip", "link", "del", name], capture_output=True)
    chain = f"WB-{engine.net_prefix.upper()}"
    for rule in our_rules(engine.net_prefix):
        table, _, line = rule.partition(": ")
        words = line.split()
        if words[0] == "-A" and not words[1].startswith(chain):
            subprocess.run(["iptables", "-w", "-t", table, "-D", *words[1:]], capture_output=True)
    for table, c in (("nat", chain), ("nat", f"{chain}-POSTROUTING"),
                     ("filter", f"{chain}-FORWARD")):
        subprocess.run(["iptables", "-w", "-t", table, "-F", c], capture_output=True)
        subprocess.run(["iptables", "-w", "-t", table, "-X", c], capture_output=True)


@dataclass(frozen=True)
class Snapshot:
    processes: frozenset[Proc]
    mounts: frozenset[str]
    cgroups: frozenset[str]
    links: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()
    netns: frozenset[str] = frozenset()


def snapshot(engine: Engine) -> Snapshot:
    processes = descendants(engine.pid) | processes_of(engine.workdir)
    for helper in engine.helpers:
        processes |= descendants(helper.pid)
    return Snapshot(frozenset(processes),
                    frozenset(mounts_under(engine.root, engine.exec_root)),
                    frozenset(cgroup_dirs()),
                    frozenset(our_links(engine.net_prefix)),
                    frozenset(our_rules(engine.net_prefix)),
                    frozenset(netns_files(engine)))


def leaks(engine: Engine, before: Snapshot, deadline: float = 5.0) -> list[str]:
    """What appeared since `before` and is still there once every container is gone.

    Polls until `deadline` (teardown in the daemon may lag the API call by a moment).
    Cgroup directories are shared with anyone else running a stage on this host, so a
    new one counts as ours only when it is empty or holds a process of our daemon.
    """
    end = time.monotonic() + deadline
    while True:
        now = snapshot(engine)
        found = []
        engine_itself = {engine.pid, *(h.pid for h in engine.helpers)}  # maybe restarted
        processes = sorted((p for p in now.processes - before.processes
                            if p.pid not in engine_itself), key=lambda p: p.pid)
        if processes:
            found.append("processes below the daemon: " + ", ".join(
                f"{p.pid} ({p.command})" for p in processes))
        mounts = sorted(now.mounts - before.mounts)
        if mounts:
            found.append("mounts: " + ", ".join(mounts))
        ours = {str(p.pid) for p in now.processes}
        current = cgroup_dirs()
        cgroups = sorted(d for d in now.cgroups - before.cgroups
                         if d in current and (not current[d] or current[d] & ours))
        if cgroups:
            found.append("cgroups: " + ", ".join(cgroups))
        for what, items in (("interfaces", now.links - before.links),
                            ("iptables rules", now.rules - before.rules),
                            ("netns files", now.netns - before.netns)):
            if items:
                found.append(f"{what}: " + ", ".join(sorted(items)))
        if not found or time.monotonic() > end:
            return found
        time.sleep(0.1)


def api_json(engine: Engine, method: str, path: str) -> tuple[int, object]:
    """One request to the engine; (status, decoded JSON body or None)."""
    conn = UnixHTTPConnection(str(engine.socket), timeout=30)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(body) if body else None
    except ValueError:
        return response.status, None
