"""After a daemon restart: find the containers that ran, adopt them or end them.

With live restore (stage 3 on, where containerd, not the daemon, is the containers'
parent and keeps their FIFOs open), a container the executor still knows is adopted:
the daemon reopens its FIFOs, appends to its log and waits for its exit again.
Otherwise, as in the eras before live restore, the new daemon cleans up whatever is
left (the executor kills the cgroup) and records the container as exited. Then, as
dockerd's restore does, the containers whose restart policy says so are started again.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import TYPE_CHECKING

from shared.daemon.executor import ExecutorError, IOConfig
from shared.daemon.restartpolicy import RestartManager
from shared.daemon.state import Container
from shared.errors import EngineError

if TYPE_CHECKING:
    from shared.daemon.engine import Engine


def recover(engine: Engine) -> None:
    for c in engine.containers.all():
        if c.state.status == "restarting":  # the last daemon ended during a back-off
            c.state.status = "exited"
            engine.containers.save(c)
        if not c.state.running:
            if os.path.isdir(engine.exec_dir(c)):
                # The last daemon died between the first step of a start and the
                # record of it (or during an exit): undo what it had done.
                engine.release(c)
            continue
        if engine.live_restore and adopt(engine, c):
            continue
        engine.release(c)
        c.state.status = "exited"
        c.state.exit_code = c.state.exit_code or 137
        c.state.pid = 0
        c.state.finished_at = time.time()
        c.state.error = "the daemon restarted"
        if c.health is not None:  # its checks ended with it (moby: stopped reads unhealthy)
            c.health["Status"] = "unhealthy"
        engine.containers.save(c)
    if engine.network is not None:
        engine.network.recover({c.id for c in engine.containers.all() if c.state.running})


def restart_by_policy(engine: Engine) -> None:
    """Start again what its restart policy says should run: `always` containers, and
    `unless-stopped` ones nobody stopped by hand (a daemon's shutdown does not count),
    `on-failure` ones whose last exit failed, within their retries; only containers
    that ran before (dockerd's restore: ShouldRestart and HasBeenStartedBefore). A
    container adopted by live restore still runs and is left alone."""
    for c in engine.containers.all():
        if c.state.status != "exited" or not c.state.started_at:
            continue
        decision = RestartManager(c.host_config, c.restart_count).should_restart(
            c.state.exit_code, c.manually_stopped, c.state.finished_at - c.state.started_at)
        if decision is None:
            continue
        try:
            engine.start(c.id)
        except EngineError as e:
            logging.getLogger("whalebones").warning(
                "restart of %s at daemon start failed: %s", c.short_id, e)


def adopt(engine: Engine, c: Container) -> bool:
    """Reattach to a container that outlived the daemon; False if it did not."""
    directory = engine.exec_dir(c)
    try:
        with open(os.path.join(directory, "spec.json")) as f:
            spec = json.load(f)
        pid = engine.executor.restore(c.id)
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
        pio, log = engine.open_streams(c, io)
    except OSError:
        return False
    pio.start_copying()
    c.state.pid = pid
    engine.watch(c, pio, log, spec)
    return True
