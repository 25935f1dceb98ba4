"""The daemon's core: containers' lifecycles, whatever executor makes them.

This is what every era's daemon kept: names, records, logs, images and the rules of
Docker's lifecycle. It knows nothing about namespaces or runtimes; it hands an OCI spec
to an `Executor` and waits for the exit, exactly as dockerd hands one to containerd.

The run path, in the order `docker run` walks it:

    create   containerconfig.merge(request, image)  ->  a record, a writable layer
    start    rootfs -> network -> spec -> stdio -> executor.create / executor.start
    watch    executor.wait() in a thread; the exit is recorded, everything released

Beside it: lifecycle.py (wait, kill, stop, pause, ...), execs.py, networking.py (the
network manager's glue), recovery.py (after a daemon restart).

Threads: each running container has one thread blocked in `executor.wait()` (as
dockerd has a goroutine per container waiting on containerd's exit event) and one per
output stream copying from its FIFO. State changes happen under `self.lock` and wake
everyone waiting on `self.changed`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass

from shared import trace
from shared.daemon import containerfs, crashpoints, daemonconfig, logs, recovery, sharing
from shared.daemon.containerconfig import ContainerConfig, merge
from shared.daemon.daemonconfig import DaemonConfig
from shared.daemon.events import Events
from shared.daemon.execs import ExecStore
from shared.daemon.executor import Executor, ExecutorError, IOConfig
from shared.daemon.health import HealthMonitors
from shared.daemon.lifecycle import DEFAULT_STOP_TIMEOUT, Lifecycle
from shared.daemon.logdrivers import container_limits, container_log_path
from shared.daemon.networking import ContainerNetworking
from shared.daemon.restartpolicy import RestartManager
from shared.daemon.state import Container, ContainerStore
from shared.daemon.stdio import Broadcast, ProcessIO, make_fifos
from shared.errors import (
    Conflict,
    EngineError,
    InvalidParameter,
    NoSuchContainer,
    NotModified,
)
from shared.images import snapshots
from shared.images.store import Image, ImageStore
from shared.network.manager import NetworkManager, Sandbox
from shared.oci import runtime_spec, users
from shared.oci.runtime_spec import SpecError
from shared.privatedirs import private_file
from shared.securejoin import secure_join
from shared.volumes import mountpoints
from shared.volumes.store import VolumeStore


@dataclass
class Live:
    """What exists only while a container runs: its streams, its log, its spec."""

    io: ProcessIO
    log: logs.LogWriter
    rootfs: str
    spec: dict


def unmount_rootfs(path: str) -> None:
    """Unmount a container's rootfs if it is mounted (after a crash it may not be).
    A `docker export` still reading it keeps it busy: then it is detached (lazily), and
    goes when the export lets go."""
    try:
        snapshots.unmount(path)
    except OSError as e:
        if e.errno == errno.EBUSY:
            snapshots.unmount(path, lazy=True)
        elif e.errno not in (errno.EINVAL, errno.ENOENT):
            raise


class Engine(Lifecycle):
    def __init__(
        self,
        executor: Executor,
        root: str,
        exec_root: str,
        stage: str,
        images: ImageStore,
        live_restore: bool = False,
        network: NetworkManager | None = None,
        settings: DaemonConfig | None = None,
    ) -> None:
        self.executor = executor
        self.settings = settings or DaemonConfig()  # daemon.json's (daemonconfig.py)
        self.events = Events()  # what `docker events` hears (events.py)
        self.network = network
        self.live_restore = live_restore
        self.stage = stage
        self.images = images
        self.containers = ContainerStore(os.path.join(root, stage, "containers"))
        self.exec_root = os.path.join(exec_root, stage)
        os.makedirs(self.exec_root, mode=0o700, exist_ok=True)
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.networking = ContainerNetworking(network, self.containers, self.lock,
                                              self.events)
        self.execs = ExecStore(self)
        self.health = HealthMonitors(self)  # health checks' probes (health.py)
        # The daemon's volumes, shared by its containers (named ones outlive them all).
        self.volumes = VolumeStore(os.path.join(root, "volumes"), self.volume_users,
                                   lambda action, name: self.events.volume(
                                       action, name, driver="local"))
        self._live: dict[str, Live] = {}
        self._output: dict[str, Broadcast] = {}
        self._exits: dict[str, int] = {}  # exits seen since the daemon started, per container
        self._removed: set[str] = set()
        self._restarting: set[str] = set()
        self._restart_managers: dict[str, RestartManager] = {}
        self.shutting_down = False
        recovery.recover(self)
        # Driver-opts volumes the last daemon mounted: kept for the containers that
        # still run, unmounted otherwise.
        held: dict[str, int] = {}
        for c in self.containers.all():
            if c.state.running:
                for m in c.mount_points:
                    if m["Type"] == "volume":
                        held[m["Name"]] = held.get(m["Name"], 0) + 1
        self.volumes.settle(held)
        recovery.restart_by_policy(self)

    # ---------------------------------------------------------------- paths

    def _dir(self, c: Container) -> str:
        return self.containers.dir(c.id)

    def _rootfs_path(self, c: Container) -> str:
        return os.path.join(self._dir(c), "rootfs")

    def exec_dir(self, c: Container) -> str:
        """Runtime state (FIFOs, the spec) of a container's processes."""
        return os.path.join(self.exec_root, c.id)

    def log_path(self, c: Container) -> str:
        """The container's log file, by its log driver; "" for none."""
        return container_log_path(self._dir(c), c.id, c.host_config)

    def output(self, c: Container) -> Broadcast:
        with self.lock:
            return self._output.setdefault(c.id, Broadcast())

    def live(self, cid: str) -> Live | None:
        return self._live.get(cid)

    def is_removed(self, c: Container) -> bool:
        return c.id in self._removed

    # ---------------------------------------------------------------- create

    def create(self, name: str | None, body: dict) -> Container:
        if not isinstance(body, dict):
            raise InvalidParameter("invalid JSON: the body must be an object")
        image_ref = body.get("Image") or ""
        if not image_ref:
            raise InvalidParameter("No image specified")  # Docker: config.Image is required
        try:
            image = self.images.resolve(image_ref)
        except ValueError as e:
            raise InvalidParameter(str(e)) from None
        if self.settings.keys & {"log-driver", "log-opts"}:
            body = {**body, "HostConfig": daemonconfig.with_log_defaults(
                body.get("HostConfig") or {}, self.settings)}
        merged = merge(body, image_ref, image.config.get("config") or {},
                       self.networking.resolver(), runtime=self.executor.name)
        # The store unpacks a layer when a container first needs it (containerd and
        # dockerd unpack at pull), and a big one takes a while: done before the engine's
        # lock, it stalls no other container's start, kill or wait (each layer has a
        # lock of its own in the store).
        self.images.layer_dirs(image)
        points = mountpoints.register(merged.config, merged.host_config, self.volumes,
                                      self._mount_points_of)
        try:
            c = self._create(name, merged, image_ref, image, points)
        except BaseException:
            for volume in mountpoints.anonymous_volumes(points):
                with contextlib.suppress(EngineError):
                    self.volumes.remove(volume, force=True)
            raise
        self.events.container(c, "create")
        return c

    def _create(self, name: str | None, merged: ContainerConfig, image_ref: str,
                image: Image, points: list[dict]) -> Container:
        with self.lock:
            cid = self.containers.new_id()
            name = self.containers.reserve_name(name, cid)
            mode = merged.host_config["NetworkMode"]
            if not merged.config["Hostname"] and not mode.startswith("container:"):
                host_name = mode == "host" or merged.host_config.get("UTSMode") == "host"
                merged.config["Hostname"] = socket.gethostname() if host_name else cid[:12]
            c = Container(id=cid, name=name, created=time.time(), image_ref=image_ref,
                          image_id=image.id, config=merged.config,
                          host_config=merged.host_config, path=merged.path,
                          args=merged.args, networks=merged.networks,
                          mount_points=points)
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

    def start(self, ref: str, by_policy: bool = False) -> None:
        """`docker start`; or, `by_policy`, the restart policy's own start after an
        exit (which keeps the restart count and the back-off going)."""
        c = self.containers.get(ref)
        with self.lock:
            if by_policy and (c.state.status != "restarting"
                              or self.restart_manager(c).cancelled.is_set()):
                return  # a stop, kill or rm came first
            if c.state.running:
                raise NotModified("container already started")
            if c.id in self._removed:
                raise Conflict(f"Container {c.id} is marked for removal and cannot be started")
            if not by_policy:
                # A new start, a new restart manager (dockerd's ResetRestartManager).
                old = self._restart_managers.pop(c.id, None)
                if old is not None:
                    old.cancel()
                c.restart_count = 0
                c.manually_stopped = False
            c.state.status = "starting"  # in memory only: keeps a second start out
        try:
            self._start(c)
        except BaseException as e:
            with self.lock:
                c.state.status = "created" if not c.state.started_at else "exited"
                if isinstance(e, EngineError | ExecutorError):
                    c.state.error = str(e)
                if isinstance(e, ExecutorError) and e.exit_code:
                    c.state.exit_code = e.exit_code  # 127: no such command, as a shell says
                self.containers.save(c)
                self.changed.notify_all()
            self.output(c).publish("exit", None)  # an attach waiting for this start ends
            if c.host_config.get("AutoRemove"):
                self._remove_stopped(c)
            if isinstance(e, ExecutorError):
                raise InvalidParameter(str(e)) from None  # dockerd answers 400 too
            raise

    def _start(self, c: Container) -> None:
        # Under the container's files lock: a `docker cp` of the stopped container
        # ends first, and none sees it half started (containerfs.py).
        with containerfs.files_lock(c.id):
            self._start_locked(c)

    def _start_locked(self, c: Container) -> None:
        """The recipe: rootfs -> network -> spec -> stdio -> executor.create/start.
        Each step pushes its undo; a failure at any step unwinds the ones before."""
        with contextlib.ExitStack() as undo:
            rootfs = self._rootfs_path(c)
            os.makedirs(rootfs, exist_ok=True)
            image = self.images.resolve(c.image_id)
            with trace.span("daemon", "work", "overlay mount"):
                snapshots.mount_all(snapshots.mounts(self.images, self._dir(c), image), rootfs)
            undo.callback(unmount_rootfs, rootfs)
            crashpoints.reached("rootfs", self.exec_root)

            undo.callback(self.networking.detach, c.id)
            joined = self.networking.joined(c)
            with trace.span("daemon", "work", "network attach"):
                sandbox = self.networking.attach(c) if joined is None else None
            crashpoints.reached("network", self.exec_root)

            # Binds and volumes: a driver-opts volume is mounted now (undone on failure)
            # and a new volume takes the image's files at its destination.
            user_mounts, propagation = mountpoints.spec_mounts(
                c.mount_points, rootfs, self.volumes, undo,
                lambda name: any(u != c.id and self.containers.get(u).state.running
                                 for u in self.volume_users(name)))
            if c.mount_points:  # what was copied up into a new volume, once
                self.containers.save(c)

            borrowed = sharing.borrowed(c, self.containers.get)
            undo.callback(sharing.release_shm, self.exec_dir(c))
            shm = sharing.shm_source(c, self.exec_dir, self.containers.get)
            with trace.span("daemon", "work", "spec build"):
                spec = self._spec(c, rootfs, sandbox, joined, borrowed, shm)
            spec["mounts"] = mountpoints.merge_mounts(spec["mounts"], user_mounts)
            if propagation:
                spec["linux"]["rootfsPropagation"] = propagation
            containerfs.save_mounts(self._dir(c), spec)  # for `docker cp` once it stops

            io = make_fifos(self.exec_dir(c), "init", stdin=c.config["OpenStdin"],
                            terminal=c.config["Tty"])
            # For a daemon that restarts while it runs; root's alone (it holds the env).
            spec_path = os.path.join(self.exec_dir(c), "spec.json")
            with private_file(spec_path) as f:
                json.dump(spec, f)
            pio, log = self.open_streams(c, io)
            undo.callback(log.close)
            undo.callback(pio.close)
            crashpoints.reached("stdio", self.exec_root)

            # Whatever goes wrong from here, and however: what the executor made goes
            # (an executor's own bug must not leave a half-made container behind).
            undo.callback(self._delete_quietly, c.id)
            pid = self.executor.create(c.id, spec, io)
            self.networking.pin(c.id, pid, sandbox)
            crashpoints.reached("create", self.exec_root)
            pio.start_copying()
            self.executor.start(c.id)
            crashpoints.reached("start", self.exec_root)
            undo.pop_all()  # it runs: from now on its exit undoes it all
        with self.lock:
            c.state.status = "running"
            c.state.pid = pid
            c.state.exit_code = 0
            c.state.oom_killed = False
            c.state.error = ""
            c.state.started_at = time.time()
            c.state.finished_at = 0.0
            self.containers.save(c)
            self.watch(c, pio, log, spec)  # in the same breath: running means watched
        for m in c.mount_points:
            if m["Type"] == "volume":
                self.events.log("volume", "mount", m["Name"], {
                    "driver": "local", "container": c.id, "destination": m["Destination"],
                    "read/write": str(bool(m.get("RW", True))).lower(),
                    "propagation": m.get("Propagation") or ""})
        self.events.container(c, "start")

    def _spec(self, c: Container, rootfs: str, sandbox: Sandbox | None,
              joined: Container | None, borrowed: dict[str, str] | None = None,
              shm: str | None = None) -> dict:
        """The runtime spec of this start: the container's config, translated, with
        what the daemon decides now (the user's ids, /etc files, the namespace)."""
        if self.settings.default_ulimits:
            c.host_config["Ulimits"] = daemonconfig.with_default_ulimits(c.host_config,
                                                                         self.settings)
        try:
            user = users.resolve(rootfs, c.config.get("User") or "",
                                 c.host_config.get("GroupAdd") or [])
            if c.config.get("WorkingDir"):
                # Docker makes a missing working directory rather than fail.
                os.makedirs(secure_join(rootfs, c.config["WorkingDir"]), exist_ok=True)
            etc = self.networking.etc_mounts(c, self._dir(c), sandbox, joined)
            return runtime_spec.build(c.id, [c.path, *c.args], c.config, c.host_config,
                                      rootfs, user, extra_mounts=etc, joined=borrowed,
                                      shm_source=shm,
                                      **self.networking.spec_args(sandbox, joined))
        except SpecError as e:
            raise InvalidParameter(str(e)) from None

    def open_streams(self, c: Container, io: IOConfig) -> tuple[ProcessIO, logs.LogWriter]:
        """The daemon's ends of a container's FIFOs, copied to its log and to whoever
        is attached."""
        log = logs.open_log(self.log_path(c), container_limits(c.host_config))
        out = self.output(c)
        log_write = log.write

        def sink(stream: str, data: bytes | None) -> None:
            if data is not None:
                log_write(stream, data)
            out.publish(stream, data)

        try:
            pio = ProcessIO(io, sink, on_close_stdin=lambda: self.close_io(c.id, None))
        except BaseException:
            log.close()
            raise
        return pio, log

    def close_io(self, cid: str, exec_id: str | None) -> None:
        with contextlib.suppress(ExecutorError):  # gone: nobody is left to read stdin
            self.executor.close_io(cid, exec_id)

    def _delete_quietly(self, cid: str) -> None:
        """Release what the executor holds; even its own bug must not stop what follows
        (recording an exit: everyone waiting on it would hang)."""
        with contextlib.suppress(Exception):
            self.executor.delete(cid)

    # ---------------------------------------------------------------- the exit

    def watch(self, c: Container, pio: ProcessIO, log: logs.LogWriter, spec: dict) -> None:
        """From now on the container runs: a thread waits for its exit."""
        with self.lock:
            self._live[c.id] = Live(io=pio, log=log, rootfs=self._rootfs_path(c), spec=spec)
            self.health.init(c)  # started, or adopted after a daemon restart
            self.changed.notify_all()
        threading.Thread(target=self._wait_exit, args=(c,), daemon=True).start()

    def restart_manager(self, c: Container) -> RestartManager:
        with self.lock:
            manager = self._restart_managers.get(c.id)
            if manager is None:
                manager = RestartManager(c.host_config, c.restart_count)
                self._restart_managers[c.id] = manager
            return manager

    def _wait_exit(self, c: Container) -> None:
        try:
            status = self.executor.wait(c.id)
            code, oom = status.code, status.oom_killed
        except ExecutorError as e:
            code, oom = 255, False
            c.state.error = str(e)
        self.health.stop(c)  # started again with the container, if it is
        live = self._live[c.id]
        # The output must be in the log before anyone hears of the exit: `docker run`
        # prints the logs after `wait` returns.
        live.io.wait_drained()
        live.io.close()
        live.log.close()
        self._delete_quietly(c.id)
        unmount_rootfs(live.rootfs)
        self._release_volumes(c)
        self.networking.detach(c.id)
        sharing.release_shm(self.exec_dir(c))
        # Its FIFOs and spec go too: what is left in the exec dir after this is the
        # mark of a daemon that died during a start or an exit (recovery.py).
        shutil.rmtree(self.exec_dir(c), ignore_errors=True)
        if oom:
            # dockerd hears containerd's TaskOOM before the exit: so do stages 3-4 (their
            # executor reads /tasks/oom from containerd's event stream); stages 1-2 read
            # the cgroup's OOM count at the exit. Either way "oom" comes just before "die".
            self.events.container(c, "oom")
        self.events.container(c, "die", exitCode=str(code),
                              execDuration=str(int(time.time() - c.state.started_at)))
        with self.lock:
            del self._live[c.id]
            c.state.exit_code = code
            c.state.oom_killed = oom
            c.state.pid = 0
            c.state.finished_at = time.time()
            delay = None
            if c.id not in self._removed:
                delay = self.restart_manager(c).should_restart(
                    code, self.shutting_down or c.manually_stopped,
                    c.state.finished_at - c.state.started_at)
            if delay is None:
                c.state.status = "exited"
            else:
                c.state.status = "restarting"
                c.restart_count += 1
            self._exits[c.id] = self._exits.get(c.id, 0) + 1
            self.execs.container_exited(c.id)
            self.containers.save(c)
            self.changed.notify_all()
        self.output(c).publish("exit", None)
        if delay is not None:
            threading.Thread(target=self._restart_after, args=(c, delay), daemon=True).start()
        elif c.host_config.get("AutoRemove") and c.id not in self._restarting:
            self._remove_stopped(c)

    def _restart_after(self, c: Container, delay: float) -> None:
        """The restart policy's back-off, then the start (dockerd's monitor.go)."""
        if self.restart_manager(c).wait(delay):
            try:
                self.start(c.id, by_policy=True)
            except (EngineError, OSError) as e:
                logging.getLogger("whalebones").warning(
                    "restart of %s by its policy failed: %s", c.short_id, e)
        with self.lock:
            if c.state.status == "restarting":  # cancelled, or its start failed
                c.state.status = "exited"
                if c.id not in self._removed:
                    self.containers.save(c)
                self.changed.notify_all()

    def release(self, c: Container) -> None:
        """What a container that did not outlive the daemon left behind, released."""
        self._delete_quietly(c.id)
        unmount_rootfs(self._rootfs_path(c))
        self._release_volumes(c)
        sharing.release_shm(self.exec_dir(c))
        shutil.rmtree(self.exec_dir(c), ignore_errors=True)
        self.networking.detach(c.id)

    # ---------------------------------------------------------------- attach

    def attach_io(self, c: Container) -> ProcessIO | None:
        """The running process's streams, waiting for a start that is on its way."""
        with self.lock:
            while True:
                live = self._live.get(c.id)
                if live is not None:
                    return live.io
                if c.id in self._removed or c.state.status == "exited":
                    return None
                self.changed.wait(0.5)

    # ---------------------------------------------------------------- remove

    def _release_volumes(self, c: Container) -> None:
        for m in c.mount_points:
            if m["Type"] == "volume":
                self.volumes.unmount(m["Name"])
                self.events.volume("unmount", m["Name"], driver="local", container=c.id)

    def _mount_points_of(self, ref: str) -> list[dict]:
        """--volumes-from: another container's mount points (400 if none is there,
        as dockerd's InvalidParameter)."""
        try:
            return list(self.containers.get(ref).mount_points)
        except NoSuchContainer as e:
            raise InvalidParameter(str(e)) from None

    def volume_users(self, name: str) -> list[str]:
        """The containers whose mount points name a volume (running or not)."""
        return [c.id for c in self.containers.all()
                if any(m["Type"] == "volume" and m["Name"] == name for m in c.mount_points)]

    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        c = self.containers.get(ref)
        self._start_settled(c)  # a start in progress finishes first, as under dockerd's lock
        if c.state.status == "restarting":
            if not force:
                raise Conflict(
                    f"You cannot remove a restarting container {c.id}. Stop the container "
                    "before attempting removal or force remove"
                )
            self.restart_manager(c).cancel()
        if c.state.running:
            if not force:
                raise Conflict(
                    f"You cannot remove a running container {c.id}. Stop the container "
                    "before attempting removal or force remove"
                )
            self._kill_all(c)
            self._wait_stopped(c, None)
        self._remove_stopped(c, volumes)

    def _remove_stopped(self, c: Container, volumes: bool = True) -> None:
        """`volumes` (`docker rm -v`, and always for --rm): its anonymous volumes go
        too, unless another container still uses one; a named volume never does."""
        with self.lock:
            if c.id in self._removed:
                return
            self._removed.add(c.id)
            manager = self._restart_managers.pop(c.id, None)
            if manager is not None:
                manager.cancel()
            if volumes:  # before it is forgotten: whoever waits for "removed" sees them go
                for name in mountpoints.anonymous_volumes(c.mount_points):
                    with contextlib.suppress(Conflict):  # still another's (--volumes-from)
                        self.volumes.remove(name, force=True, leaving=c.id)
            self.containers.forget(c.id)
            self._output.pop(c.id, None)
            self.execs.forget_container(c.id)
        # The executor holds something of a container only between its create and
        # its delete, and the exec dir exists all that time (made before the one,
        # removed after the other, as recovery.py reads it): no exec dir, nothing to
        # delete. (On stages 3-4 a delete is two gRPC calls, ~4 ms of `run --rm`.)
        if os.path.isdir(self.exec_dir(c)):
            self._delete_quietly(c.id)
        unmount_rootfs(self._rootfs_path(c))
        with containerfs.files_lock(c.id):  # a copy from its layers ends first
            snapshots.remove(self._dir(c))
            shutil.rmtree(self._dir(c), ignore_errors=True)
        containerfs.forget(c.id)
        shutil.rmtree(self.exec_dir(c), ignore_errors=True)
        self.events.container(c, "destroy")
        with self.lock:
            self.changed.notify_all()

    def image_in_use(self, image_id: str) -> Container | None:
        for c in self.containers.all():
            if c.image_id == image_id:
                return c
        return None

    # ---------------------------------------------------------------- shutdown

    def shutdown(self) -> None:
        """The daemon is stopping. Unless live restore is on (and the executor keeps
        containers alive without the daemon), it stops them first, all at once, each
        with its stop signal and grace period, as dockerd does. Those exits are not
        restarted now, and not held against unless-stopped at the next start."""
        with self.lock:
            self.shutting_down = True
            for manager in self._restart_managers.values():
                manager.cancel()
        self.health.stop_all()
        if not self.live_restore:
            running = [c for c in self.containers.all() if c.state.running]
            threads = [threading.Thread(target=self._stop_quietly, args=(c,)) for c in running]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.executor.close()
        if self.network is not None:
            self.network.shutdown()

    def _stop_quietly(self, c: Container) -> None:
        with contextlib.suppress(EngineError):
            self.stop(c.id, min(c.config.get("StopTimeout", DEFAULT_STOP_TIMEOUT), 10))
