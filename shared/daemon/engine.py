"""The daemon's core: containers' lifecycles, whatever executor makes them.

This is what every era's daemon kept: names, records, logs, images and the rules of
Docker's lifecycle (create, start, wait, stop, kill, restart, rm, exec). It knows
nothing about namespaces or runtimes; it hands an OCI spec to an `Executor` and waits
for the exit, exactly as dockerd hands one to containerd.

Threads: each running container has one thread blocked in `executor.wait()` (as
dockerd has a goroutine per container waiting on containerd's exit event) and one per
output stream copying from its FIFO. State changes happen under `self._lock` and wake
everyone waiting on `self._changed`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal as signals
import socket
import threading
import time
from dataclasses import dataclass, field

from shared.daemon import etcfiles, logs, top
from shared.daemon.errors import (
    Conflict,
    EngineError,
    InvalidParameter,
    NoSuchExec,
    NotFound,
    NotModified,
    NotRunning,
)
from shared.daemon.executor import Executor, ExecutorError, IOConfig
from shared.daemon.state import Container, ContainerStore
from shared.daemon.stdio import Broadcast, ProcessIO, make_fifos
from shared.images import snapshots
from shared.images.store import ImageNotFound, ImageStore
from shared.network import portmap
from shared.network.manager import Forbidden, NetworkManager, Sandbox
from shared.oci import runtime_spec, users
from shared.oci.runtime_spec import SpecError
from shared.securejoin import secure_join

DEFAULT_STOP_TIMEOUT = 10
KILL_TIMEOUT = 30.0  # how long stop waits for the exit after SIGKILL
START_SETTLE = 60.0  # how long kill and stop wait for a start in progress to finish


@dataclass
class Live:
    """What exists only while a container runs: its streams, its log, its waiter."""

    io: ProcessIO
    log: logs.JsonFileLog
    rootfs: str
    spec: dict


@dataclass
class Exec:
    id: str
    container_id: str
    body: dict
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    io: ProcessIO | None = None
    output: Broadcast = field(default_factory=Broadcast)
    done: threading.Event = field(default_factory=threading.Event)


def unmount_rootfs(path: str) -> None:
    """Unmount a container's rootfs if it is mounted (after a crash it may not be)."""
    try:
        snapshots.unmount(path)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOENT):
            raise


def parse_signal(value: str | int | None, default: int = signals.SIGKILL) -> int:
    """"KILL", "SIGKILL", "9" -> 9, as `docker kill -s` accepts them."""
    if value is None or value == "":
        return default
    text = str(value).strip().upper()
    if text.isdigit():
        number = int(text)
        if 0 < number < signals.NSIG:
            return number
    else:
        name = text if text.startswith("SIG") else "SIG" + text
        sig = getattr(signals.Signals, name, None) if name.isidentifier() else None
        if sig is not None:
            return int(sig)
    raise InvalidParameter(f"Invalid signal: {value}")


class Engine:
    def __init__(
        self,
        executor: Executor,
        root: str,
        exec_root: str,
        stage: str,
        images: ImageStore,
        live_restore: bool = False,
        network: NetworkManager | None = None,
    ) -> None:
        self.executor = executor
        # None: no bridge networking (unit tests); bridge containers get `none`'s.
        self.network = network
        self.live_restore = live_restore
        self.stage = stage
        self.images = images
        self.containers = ContainerStore(os.path.join(root, stage, "containers"))
        self.exec_root = os.path.join(exec_root, stage)
        os.makedirs(self.exec_root, mode=0o700, exist_ok=True)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._live: dict[str, Live] = {}
        self._output: dict[str, Broadcast] = {}
        self._exits: dict[str, int] = {}  # exits seen since the daemon started, per container
        self._removed: set[str] = set()
        self._execs: dict[str, Exec] = {}
        self._recover()

    # ---------------------------------------------------------------- recovery

    def _recover(self) -> None:
        """After a daemon restart: find the containers that ran, adopt or end them.

        With live restore (stage 3 on, where containerd, not the daemon, is the
        containers' parent and keeps their FIFOs open), a container the executor still
        knows is adopted: the daemon reopens its FIFOs, appends to its log and waits
        for its exit again. Otherwise, as in the eras before live restore, the new
        daemon cleans up whatever is left (the executor kills the cgroup) and records
        the container as exited.
        """
        for c in self.containers.all():
            if c.state.status in ("running", "paused", "restarting"):
                if self.live_restore and self._adopt(c):
                    continue
                self._release(c)
                c.state.status = "exited"
                c.state.exit_code = 137 if not c.state.exit_code else c.state.exit_code
                c.state.pid = 0
                c.state.finished_at = time.time()
                c.state.error = "the daemon restarted"
                self.containers.save(c)
        if self.network is not None:
            self.network.recover({c.id for c in self.containers.all() if c.state.running})

    def _adopt(self, c: Container) -> bool:
        """Reattach to a container that outlived the daemon; False if it did not."""
        directory = os.path.join(self.exec_root, c.id)
        try:
            with open(os.path.join(directory, "spec.json")) as f:
                spec = json.load(f)
            pid = self.executor.restore(c.id)
        except (OSError, ValueError, ExecutorError):
            return False
        paths = {s: os.path.join(directory, f"init-{s}") for s in ("stdin", "stdout", "stderr")}
        io = IOConfig(
            stdin=paths["stdin"] if os.path.exists(paths["stdin"]) else None,
            stdout=paths["stdout"],
            stderr=paths["stderr"] if os.path.exists(paths["stderr"]) else None,
            terminal=c.config["Tty"],
        )
        try:
            pio, log = self._streams(c, io)
        except OSError:
            return False
        pio.start_copying()
        self._live[c.id] = Live(io=pio, log=log, rootfs=self._rootfs_path(c), spec=spec)
        c.state.pid = pid
        threading.Thread(target=self._wait_exit, args=(c,), daemon=True).start()
        return True

    def _streams(self, c: Container, io: IOConfig) -> tuple[ProcessIO, logs.JsonFileLog]:
        """The daemon's ends of a container's FIFOs, copied to its log and to whoever
        is attached."""
        log = logs.JsonFileLog(self.log_path(c))
        out = self.output(c)
        log_write = log.write

        def sink(stream: str, data: bytes | None) -> None:
            if data is not None:
                log_write(stream, data)
            out.publish(stream, data)

        try:
            pio = ProcessIO(io, sink, on_close_stdin=lambda: self._close_io(c.id, None))
        except BaseException:
            log.close()
            raise
        return pio, log

    def _close_io(self, cid: str, exec_id: str | None) -> None:
        try:
            self.executor.close_io(cid, exec_id)
        except ExecutorError:
            pass  # the process has gone: nobody is left to read stdin

    def _release(self, c: Container) -> None:
        try:
            self.executor.delete(c.id)
        except ExecutorError:
            pass
        unmount_rootfs(self._rootfs_path(c))
        shutil.rmtree(os.path.join(self.exec_root, c.id), ignore_errors=True)
        if self.network is not None:
            self.network.detach(c.id)

    # ---------------------------------------------------------------- paths

    def _dir(self, c: Container) -> str:
        return self.containers.dir(c.id)

    def _rootfs_path(self, c: Container) -> str:
        return os.path.join(self._dir(c), "rootfs")

    def log_path(self, c: Container) -> str:
        return os.path.join(self._dir(c), f"{c.id}-json.log")

    def output(self, c: Container) -> Broadcast:
        with self._lock:
            return self._output.setdefault(c.id, Broadcast())

    # ---------------------------------------------------------------- create

    def create(self, name: str | None, body: dict) -> Container:
        if not isinstance(body, dict):
            raise InvalidParameter("invalid JSON: the body must be an object")
        image_ref = body.get("Image") or ""
        if not image_ref:
            raise InvalidParameter("No image specified")  # Docker: config.Image is required
        try:
            image = self.images.resolve(image_ref)
        except ImageNotFound as e:
            raise NotFound(str(e)) from None
        except ValueError as e:
            raise InvalidParameter(str(e)) from None
        host_config = body.get("HostConfig") or {}
        image_config = image.config.get("config") or {}
        try:
            runtime_spec.resources(host_config)  # validates limits before anything exists
            runtime_spec.no_new_privileges(host_config.get("SecurityOpt") or [])
            args = runtime_spec.command(body, image_config)
        except SpecError as e:
            raise InvalidParameter(str(e)) from None
        if not args:
            raise InvalidParameter("No command specified")
        policy = (host_config.get("RestartPolicy") or {}).get("Name") or ""
        if policy not in ("", "no", "always", "unless-stopped", "on-failure"):
            raise InvalidParameter(f"invalid restart policy '{policy}'")
        network = host_config.get("NetworkMode") or "default"
        networks: dict[str, dict] = {}
        if network.startswith("container:"):
            self._check_container_mode(body, host_config)
        elif self.network is not None:
            network = self.network.mode(network)
            endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
            if network not in ("none", "host"):
                networks[network] = {}
                for key, value in endpoints.items():
                    if self.network.mode(key) == network:
                        networks[network] = value or {}
            if host_config.get("PortBindings") and network in ("none", "host"):
                host_config = {**host_config, "PortBindings": {}}  # Docker ignores them too
            portmap.parse_bindings(host_config.get("PortBindings"))  # 400 if malformed
        elif network not in ("default", "bridge", "none", "host"):
            raise NotFound(f"network {network} not found")

        config = {
            "Hostname": body.get("Hostname") or "",
            "Domainname": body.get("Domainname") or "",
            "User": body.get("User") or image_config.get("User") or "",
            "AttachStdin": bool(body.get("AttachStdin")),
            "AttachStdout": bool(body.get("AttachStdout")),
            "AttachStderr": bool(body.get("AttachStderr")),
            "Tty": bool(body.get("Tty")),
            "OpenStdin": bool(body.get("OpenStdin")),
            "StdinOnce": bool(body.get("StdinOnce")),
            "Env": runtime_spec.merge_env(image_config.get("Env") or [], body.get("Env") or [], {}),
            "Cmd": body.get("Cmd") or (None if body.get("Entrypoint") else image_config.get("Cmd")),
            "Image": image_ref,
            "WorkingDir": body.get("WorkingDir") or image_config.get("WorkingDir") or "",
            "Entrypoint": body.get("Entrypoint") or image_config.get("Entrypoint"),
            "Labels": {**(image_config.get("Labels") or {}), **(body.get("Labels") or {})},
            "StopSignal": runtime_spec.stop_signal(body, image_config),
        }
        if body.get("StopTimeout") is not None:
            config["StopTimeout"] = body["StopTimeout"]
        exposed = {**(image_config.get("ExposedPorts") or {}), **(body.get("ExposedPorts") or {})}
        for key in host_config.get("PortBindings") or {}:
            exposed.setdefault(key, {})
        if exposed:
            config["ExposedPorts"] = exposed
        host_config = {**host_config, "NetworkMode": network}
        host_config.setdefault("LogConfig", {"Type": "json-file", "Config": {}})
        if not host_config["LogConfig"].get("Type"):
            host_config["LogConfig"] = {"Type": "json-file", "Config": {}}

        with self._lock:
            cid = self.containers.new_id()
            name = self.containers.reserve_name(name, cid)
            if not config["Hostname"] and not network.startswith("container:"):
                config["Hostname"] = socket.gethostname() if network == "host" else cid[:12]
            c = Container(
                id=cid,
                name=name,
                created=time.time(),
                image_ref=image_ref,
                image_id=image.id,
                config=config,
                host_config=host_config,
                path=args[0],
                args=args[1:],
                networks=networks,
            )
            d = self._dir(c)
            try:
                os.makedirs(d, mode=0o700)
                snapshots.prepare(self.images, d, image)
                self.containers.add(c)  # last: a crash before this leaves no container
            except BaseException:
                shutil.rmtree(d, ignore_errors=True)
                raise
            self._output[cid] = Broadcast()
        return c

    # ---------------------------------------------------------------- start

    def start(self, ref: str) -> None:
        c = self.containers.get(ref)
        with self._lock:
            if c.state.running:
                raise NotModified("container already started")
            if c.id in self._removed or c.state.status == "removing":
                raise Conflict(f"Container {c.id} is marked for removal and cannot be started")
            c.state.status = "starting"  # in memory only: keeps a second start out
        try:
            self._start(c)
        except BaseException as e:
            with self._lock:
                c.state.status = "created" if not c.state.started_at else "exited"
                if isinstance(e, EngineError):
                    c.state.error = e.message
                    if "not found" in e.message or "no such file" in e.message:
                        c.state.exit_code = 127
                    elif "permission denied" in e.message:
                        c.state.exit_code = 126
                self.containers.save(c)
                self._changed.notify_all()
            self.output(c).publish("exit", None)  # an attach waiting for this start ends
            if c.host_config.get("AutoRemove"):
                self._remove_stopped(c)
            raise

    def _start(self, c: Container) -> None:
        image = self.images.resolve(c.image_id)
        rootfs = self._rootfs_path(c)
        mounts = snapshots.prepare(self.images, self._dir(c), image)
        os.makedirs(rootfs, exist_ok=True)
        snapshots.mount_all(mounts, rootfs)
        io: IOConfig | None = None
        pio: ProcessIO | None = None
        log: logs.JsonFileLog | None = None
        try:
            sandbox = None
            if self.network is not None and c.networks:
                ports = portmap.requested(c.host_config, c.config.get("ExposedPorts"))
                sandbox = self.network.attach(c.id, c.name, c.config["Hostname"], c.networks,
                                              ports)
            try:
                user = users.resolve(rootfs, c.config.get("User") or "")
                if c.config.get("WorkingDir"):
                    # Docker makes a missing working directory rather than fail.
                    os.makedirs(secure_join(rootfs, c.config["WorkingDir"]), exist_ok=True)
                joined = self._joined(c)
                etc = etcfiles.write(
                    self._dir(c), c.config["Hostname"], c.host_config["NetworkMode"] == "host",
                    addresses=[ep.address for ep in sandbox.endpoints] if sandbox else [],
                    nameservers=self._nameservers(sandbox),
                ) if joined is None else etcfiles.mounts(self._dir(joined))
                spec = runtime_spec.build(
                    c.id,
                    {**c.config, "Cmd": [c.path, *c.args], "Entrypoint": None},
                    c.host_config,
                    {},
                    rootfs,
                    user,
                    c.config["Hostname"],
                    extra_mounts=etc,
                    **self._network_spec(sandbox, joined),
                )
            except SpecError as e:
                raise InvalidParameter(str(e)) from None
            io = make_fifos(
                os.path.join(self.exec_root, c.id),
                "init",
                stdin=c.config["OpenStdin"],
                terminal=c.config["Tty"],
            )
            with open(os.path.join(self.exec_root, c.id, "spec.json"), "w") as f:
                json.dump(spec, f)  # for a daemon that restarts while it runs
            pio, log = self._streams(c, io)
            try:
                pid = self.executor.create(c.id, spec, io)
                if sandbox is not None and self.network is not None:
                    self.network.pin_namespace(c.id, pid)  # if its executor made it
                pio.start_copying()
                self.executor.start(c.id)
            except BaseException as e:
                # Whatever went wrong, and however: what the executor made goes (an
                # executor's own bug must not leave a half-made container behind).
                try:
                    self.executor.delete(c.id)
                except Exception:  # noqa: BLE001 - the first error is the one to report
                    pass
                if isinstance(e, ExecutorError):
                    raise InvalidParameter(str(e)) from None
                raise
        except BaseException:
            if pio is not None:
                pio.close()
            if log is not None:
                log.close()
            unmount_rootfs(rootfs)
            if self.network is not None:
                self.network.detach(c.id)
            raise
        with self._lock:
            self._live[c.id] = Live(io=pio, log=log, rootfs=rootfs, spec=spec)
            c.state.status = "running"
            c.state.pid = pid
            c.state.exit_code = 0
            c.state.oom_killed = False
            c.state.error = ""
            c.state.started_at = time.time()
            c.state.finished_at = 0.0
            self.containers.save(c)
            self._changed.notify_all()
        threading.Thread(target=self._wait_exit, args=(c,), daemon=True).start()

    @staticmethod
    def _check_container_mode(body: dict, host_config: dict) -> None:
        """`--network container:NAME` shares NAME's network namespace (Kubernetes' pods
        are made this way: one namespace, held by a "pause" container, joined by the
        others). NAME is looked up at each start, as dockerd does; what cannot go with
        a borrowed network is refused now, with dockerd's words."""
        if host_config.get("PortBindings") or host_config.get("PublishAllPorts"):
            raise InvalidParameter(
                "conflicting options: port publishing and the container type network mode")
        if body.get("Hostname"):
            raise InvalidParameter("conflicting options: hostname and the network mode")

    def _joined(self, c: Container) -> Container | None:
        """The running container whose network `c` joins (None in other modes); `c`
        takes its hostname too."""
        mode = c.host_config.get("NetworkMode") or ""
        if not mode.startswith("container:"):
            return None
        target = self.containers.get(mode.partition(":")[2])
        if target.id == c.id:
            raise InvalidParameter("cannot join own network")
        if not target.state.running or not target.state.pid:
            raise Conflict(f"cannot join network of a non running container: {target.id}")
        c.config["Hostname"] = target.config["Hostname"]
        return target

    def _network_spec(self, sandbox: Sandbox | None, joined: Container | None = None) -> dict:
        """How the spec names the container's network: the namespace the daemon made,
        by path, or (an executor that makes its own links: stage 1's LXC) the plan of
        the interfaces for the namespace the executor makes; or, joining a container's
        network, the namespace its init is in, which any era's executor can join."""
        if joined is not None:
            return {"netns_path": f"/proc/{joined.state.pid}/ns/net"}
        if sandbox is None or self.network is None:
            return {}
        if self.network.executor_makes_links:
            return {"interfaces": [ep.plan() for ep in sandbox.endpoints]}
        return {"netns_path": sandbox.path}

    def _nameservers(self, sandbox: object) -> list[str]:
        """A user-defined network's containers ask its DNS (on the gateway) first."""
        if sandbox is None or self.network is None:
            return []
        return [ep.gateway for ep in sandbox.endpoints  # type: ignore[attr-defined]
                if self.network.get(ep.network_id).user_defined][:1]

    def _wait_exit(self, c: Container) -> None:
        try:
            status = self.executor.wait(c.id)
            code, oom = status.code, status.oom_killed
        except ExecutorError as e:
            code, oom = 255, False
            c.state.error = str(e)
        live = self._live[c.id]
        # The output must be in the log before anyone hears of the exit: `docker run`
        # prints the logs after `wait` returns.
        live.io.wait_drained()
        live.io.close()
        live.log.close()
        try:
            self.executor.delete(c.id)
        except Exception:  # noqa: BLE001 - even an executor's bug must not stop the exit
            pass           # from being recorded: everyone waiting on it would hang
        unmount_rootfs(live.rootfs)
        if self.network is not None:
            self.network.detach(c.id)
        with self._lock:
            del self._live[c.id]
            c.state.status = "exited"
            c.state.exit_code = code
            c.state.oom_killed = oom
            c.state.pid = 0
            c.state.finished_at = time.time()
            self._exits[c.id] = self._exits.get(c.id, 0) + 1
            for ex in self._execs.values():
                if ex.container_id == c.id and ex.running:
                    ex.running = False
            self.containers.save(c)
            self._changed.notify_all()
        self.output(c).publish("exit", None)
        if c.host_config.get("AutoRemove") and not getattr(c, "_restarting", False):
            self._remove_stopped(c)

    # ---------------------------------------------------------------- wait

    def wait(self, ref: str, condition: str = "not-running") -> Container:
        """Block until the condition holds; returns the container (its State tells)."""
        return self.wait_for(self.containers.get(ref), condition)

    def wait_for(self, c: Container, condition: str = "not-running") -> Container:
        """As wait(), for a container already looked up: it may be removed meanwhile
        (that is what condition=removed waits for)."""
        if condition not in ("not-running", "next-exit", "removed"):
            raise InvalidParameter(f"invalid condition: {condition!r}")
        with self._lock:
            exits = self._exits.get(c.id, 0)
            while True:
                if condition == "removed":
                    if c.id in self._removed:
                        return c
                elif condition == "next-exit":
                    if self._exits.get(c.id, 0) > exits:
                        return c
                elif not c.state.running and c.state.status != "starting":
                    return c
                if c.id in self._removed:
                    return c
                self._changed.wait()

    def _wait_stopped(self, c: Container, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while c.state.running or c.id in self._live:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    # ---------------------------------------------------------------- signals

    def _start_settled(self, c: Container) -> None:
        """Wait out a start that is in progress. dockerd holds a container's lock for
        the whole of a start, so a kill sent meanwhile waits for it rather than fail
        with "not running". It matters: `docker run`'s signal proxy may send Ctrl-C
        the moment the program has printed, before the runtime's `start` (on stages
        3 and 4 a gRPC call and a runc process away) has returned to us."""
        with self._lock:
            self._changed.wait_for(lambda: c.state.status != "starting", timeout=START_SETTLE)

    def kill(self, ref: str, sig: str | int | None = None) -> None:
        c = self.containers.get(ref)
        number = parse_signal(sig)
        self._start_settled(c)
        if not c.state.running:
            raise NotRunning(c.id)
        try:
            self.executor.kill(c.id, number)
        except ExecutorError as e:
            raise EngineError(f"Cannot kill container: {c.id}: {e}") from None
        if number in (signals.SIGKILL, self._stop_signal(c)):
            self._thaw_to_exit(c)
        if number == signals.SIGKILL:
            self._wait_stopped(c, None)

    def _stop_signal(self, c: Container) -> int:
        return parse_signal(c.config.get("StopSignal"), signals.SIGTERM)

    def _thaw_to_exit(self, c: Container) -> None:
        """A paused container sent a signal meant to end it is thawed, as dockerd does:
        a frozen process cannot act on a signal (on cgroup v1, not even die of
        SIGKILL), so the signal waits, pending, until the thaw."""
        if c.state.status == "paused":
            with contextlib.suppress(EngineError):  # it exited meanwhile: nothing to thaw
                self._freeze(c, False)

    def stop(self, ref: str, timeout: int | None = None) -> None:
        """The stop signal, then SIGKILL when the grace period is over."""
        c = self.containers.get(ref)
        self._start_settled(c)
        if not c.state.running:
            raise NotModified("container already stopped")
        if timeout is None:
            timeout = c.config.get("StopTimeout", DEFAULT_STOP_TIMEOUT)
        try:
            self.executor.kill(c.id, self._stop_signal(c))
        except ExecutorError:
            pass
        self._thaw_to_exit(c)
        if timeout is not None and timeout < 0:
            self._wait_stopped(c, None)
            return
        if not self._wait_stopped(c, float(timeout)):
            try:
                self.executor.kill(c.id, signals.SIGKILL, all=True)
            except ExecutorError:
                pass
            self._thaw_to_exit(c)
            if not self._wait_stopped(c, KILL_TIMEOUT):
                # SIGKILL cannot be ignored: the executor did not deliver it (say,
                # containerd is down). Say so rather than hang the client (or shutdown).
                raise EngineError(f"cannot stop container {c.id[:12]}: no exit "
                                  f"{KILL_TIMEOUT:.0f} s after SIGKILL")

    def restart(self, ref: str, timeout: int | None = None) -> None:
        c = self.containers.get(ref)
        if c.state.running:
            c._restarting = True  # type: ignore[attr-defined]
            try:
                self.stop(c.id, timeout)
            finally:
                c._restarting = False  # type: ignore[attr-defined]
        c.restart_count += 1
        self.start(c.id)

    def top(self, ref: str, ps_args: str = "") -> dict:
        """`docker top`: the container's processes, as the host's ps shows them."""
        c = self.containers.get(ref)
        if not c.state.running:
            raise NotRunning(c.id)
        try:
            pids = self.executor.pids(c.id)
        except ExecutorError as e:
            raise EngineError(str(e)) from None
        return top.processes(pids, ps_args)

    # ---------------------------------------------------------------- pause

    def pause(self, ref: str) -> None:
        """`docker pause`: freeze every process of the container in the freezer
        cgroup. Unlike SIGSTOP, which a process's parent can see and which reaches one
        process at a time, the whole group stops at once and cannot tell."""
        c = self.containers.get(ref)
        self._start_settled(c)
        with self._lock:
            if not c.state.running:
                raise NotRunning(c.id)
            if c.state.status == "paused":
                raise Conflict(f"Container {c.id} is already paused")
        self._freeze(c, True)

    def unpause(self, ref: str) -> None:
        c = self.containers.get(ref)
        with self._lock:
            if c.state.status != "paused":
                raise Conflict(f"Container {c.id} is not paused")
        self._freeze(c, False)

    def _freeze(self, c: Container, paused: bool) -> None:
        try:
            (self.executor.pause if paused else self.executor.resume)(c.id)
        except ExecutorError as e:
            verb = "pause" if paused else "unpause"
            raise EngineError(f"Cannot {verb} container {c.id}: {e}") from None
        with self._lock:
            if c.state.running:  # not if it exited meanwhile: its exit is the news
                c.state.status = "paused" if paused else "running"
                self.containers.save(c)
                self._changed.notify_all()

    def resize(self, ref: str, height: int, width: int) -> None:
        c = self.containers.get(ref)
        if not c.state.running:
            raise NotRunning(c.id)
        try:
            self.executor.resize(c.id, None, height, width)
        except ExecutorError as e:
            raise EngineError(str(e)) from None

    # ---------------------------------------------------------------- networks

    def network_connect(self, net_ref: str, ref: str, config: dict) -> None:
        """`docker network connect`: on the network from now on, and at once if running."""
        if self.network is None:
            raise NotFound(f"network {net_ref} not found")
        net = self.network.get(net_ref)
        c = self.containers.get(ref)
        if (c.host_config.get("NetworkMode") or "").startswith("container:"):
            raise Forbidden("container sharing network namespace with another container or "
                            "host cannot be connected to any other network")
        if c.host_config.get("NetworkMode") in ("host", "none") or net.driver != "bridge":
            raise InvalidParameter(f"container cannot be connected to network {net.name}"
                                   if net.driver == "bridge" else
                                   "container cannot be disconnected from host network or "
                                   "connected to host network")
        with self._lock:
            if net.name in c.networks:
                raise Forbidden(f"endpoint with name {c.name} already exists in network "
                                f"{net.name}")
            if c.state.running:
                self.network.connect(c.id, net.id, config or {})
            c.networks[net.name] = config or {}
            self.containers.save(c)

    def network_disconnect(self, net_ref: str, ref: str) -> None:
        if self.network is None:
            raise NotFound(f"network {net_ref} not found")
        net = self.network.get(net_ref)
        c = self.containers.get(ref)
        with self._lock:
            if net.name not in c.networks:
                raise Forbidden(f"container {c.id} is not connected to network {net.name}")
            if c.state.running:
                self.network.disconnect(c.id, net.id)
            del c.networks[net.name]
            self.containers.save(c)

    # ---------------------------------------------------------------- remove

    def remove(self, ref: str, force: bool = False) -> None:
        c = self.containers.get(ref)
        if c.state.running:
            if not force:
                raise Conflict(
                    f"You cannot remove a running container {c.id}. Stop the container "
                    "before attempting removal or force remove"
                )
            try:
                self.executor.kill(c.id, signals.SIGKILL, all=True)
            except ExecutorError:
                pass
            self._thaw_to_exit(c)
            self._wait_stopped(c, None)
        self._remove_stopped(c)

    def _remove_stopped(self, c: Container) -> None:
        with self._lock:
            if c.id in self._removed:
                return
            self._removed.add(c.id)
            self.containers.forget(c.id)
            self._output.pop(c.id, None)
            for exec_id in [e for e, ex in self._execs.items() if ex.container_id == c.id]:
                del self._execs[exec_id]
        try:
            self.executor.delete(c.id)  # idempotent; a no-op for what was cleaned already
        except ExecutorError:
            pass
        unmount_rootfs(self._rootfs_path(c))
        snapshots.remove(self._dir(c))
        shutil.rmtree(self._dir(c), ignore_errors=True)
        shutil.rmtree(os.path.join(self.exec_root, c.id), ignore_errors=True)
        with self._lock:
            self._changed.notify_all()

    def image_in_use(self, image_id: str) -> Container | None:
        for c in self.containers.all():
            if c.image_id == image_id:
                return c
        return None

    # ---------------------------------------------------------------- attach

    def attach_io(self, c: Container) -> ProcessIO | None:
        """The running process's streams, waiting for a start that is on its way."""
        with self._lock:
            while True:
                live = self._live.get(c.id)
                if live is not None:
                    return live.io
                if c.id in self._removed or c.state.status == "exited":
                    return None
                self._changed.wait(0.5)

    # ---------------------------------------------------------------- exec

    def exec_create(self, ref: str, body: dict) -> Exec:
        c = self.containers.get(ref)
        if not isinstance(body, dict):
            raise InvalidParameter("invalid JSON: the body must be an object")
        if not body.get("Cmd"):
            raise InvalidParameter("No exec command specified")
        if not c.state.running:
            raise NotRunning(c.id)
        if c.state.status == "paused":  # (dockerd names it as the client did, here)
            raise Conflict(f"Container {ref} is paused, unpause the container before exec")
        ex = Exec(id=os.urandom(32).hex(), container_id=c.id, body=body)
        with self._lock:
            self._execs[ex.id] = ex
            c.execs.append(ex.id)
        return ex

    def get_exec(self, exec_id: str) -> Exec:
        with self._lock:
            ex = self._execs.get(exec_id)
        if ex is None:
            raise NoSuchExec(exec_id)
        return ex

    def exec_start(self, exec_id: str, tty: bool | None = None) -> Exec:
        """Start the exec; its output goes to `ex.output` (subscribe first)."""
        ex = self.get_exec(exec_id)
        c = self.containers.get(ex.container_id)
        with self._lock:
            if ex.running or ex.exit_code is not None:
                raise Conflict(f"Error: Exec command {ex.id} has already run")
            live = self._live.get(c.id)
            if live is None:
                raise NotRunning(c.id)
            ex.running = True
        body = ex.body
        terminal = bool(body.get("Tty") if tty is None else tty)
        try:
            try:
                user = users.resolve(live.rootfs, body.get("User") or c.config.get("User") or "")
                process = runtime_spec.exec_process(
                    live.spec["process"], {**body, "Tty": terminal}, user, c.config["Env"]
                )
            except SpecError as e:
                raise InvalidParameter(str(e)) from None
            io = make_fifos(
                os.path.join(self.exec_root, c.id),
                ex.id[:16],
                stdin=bool(body.get("AttachStdin")),
                terminal=terminal,
            )
            ex.io = ProcessIO(
                io, ex.output.publish, on_close_stdin=lambda: self._close_io(c.id, ex.id)
            )
            try:
                ex.pid = self.executor.exec(c.id, ex.id, process, io)
            except ExecutorError as e:
                ex.io.close()
                if "not found" in str(e) or "no such file" in str(e):
                    with self._lock:
                        ex.exit_code = 127
                raise EngineError(str(e)) from None
            ex.io.start_copying()
        except BaseException:
            with self._lock:
                ex.running = False
                if ex.exit_code is None:
                    ex.exit_code = 126  # as Docker: the command could not be run
            ex.done.set()
            raise
        threading.Thread(target=self._wait_exec, args=(ex,), daemon=True).start()
        return ex

    def _wait_exec(self, ex: Exec) -> None:
        try:
            code = self.executor.wait(ex.container_id, ex.id).code
        except ExecutorError:
            code = 137
        assert ex.io is not None
        ex.io.wait_drained()
        ex.io.close()
        with self._lock:
            ex.running = False
            ex.exit_code = code
            self._changed.notify_all()
        ex.done.set()
        ex.output.publish("exit", None)

    def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        ex = self.get_exec(exec_id)
        if not ex.running:
            raise Conflict(f"Exec {exec_id} is not running")
        try:
            self.executor.resize(ex.container_id, ex.id, height, width)
        except ExecutorError as e:
            raise EngineError(str(e)) from None

    def shutdown(self) -> None:
        """The daemon is stopping. Unless live restore is on (and the executor keeps
        containers alive without the daemon), it stops them first, all at once, each
        with its stop signal and grace period, as dockerd does."""
        if not self.live_restore:
            running = [c for c in self.containers.all() if c.state.running]
            threads = [
                threading.Thread(target=self._stop_quietly, args=(c,)) for c in running
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.executor.close()
        if self.network is not None:
            self.network.shutdown()

    def _stop_quietly(self, c: Container) -> None:
        try:
            self.stop(c.id, min(c.config.get("StopTimeout", DEFAULT_STOP_TIMEOUT), 10))
        except EngineError:
            pass
