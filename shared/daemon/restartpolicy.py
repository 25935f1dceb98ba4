"""Restart policies: whether, and after how long, a container that exited runs again.

`--restart no|always|unless-stopped|on-failure[:N]`, decided as dockerd's restart
manager decides (moby daemon/internal/restartmanager): each container has a manager
that lives as long as the daemon's memory of one `docker start`. At every exit it is
asked whether to restart; the wait before the restart starts at 100 ms and doubles at
each restart in a row (up to a minute), so a container that dies at once does not spin
the CPU; a run of 10 s or more counts as healthy and the wait starts again at 100 ms.

A `docker stop` (or a kill with SIGKILL or the stop signal) cancels the manager: the
exit it causes is not restarted, whatever the policy. `docker start` makes a new one.
"""

from __future__ import annotations

import threading

from shared.errors import Conflict, InvalidParameter

NAMES = ("no", "always", "unless-stopped", "on-failure")
FIRST_DELAY = 0.1  # s: dockerd's defaultTimeout
MULTIPLIER = 2
MAX_DELAY = 60.0
HEALTHY_RUN = 10.0  # s of running after which the back-off starts over


def policy_of(host_config: dict) -> tuple[str, int]:
    """(name, maximum retry count) of a container's HostConfig.RestartPolicy."""
    policy = host_config.get("RestartPolicy") or {}
    return (policy.get("Name") or "no", int(policy.get("MaximumRetryCount") or 0))


def refuse_if_restarting(status: str, cid: str) -> None:
    """exec, pause and top between an exit and its restart: nothing runs to act on
    (dockerd's errContainerIsRestarting, a 409)."""
    if status == "restarting":
        raise Conflict(f"Container {cid} is restarting, wait until the container is "
                       "running")


def validate(host_config: dict) -> None:
    """400 with the words of the reference's dockerd (Debian's, moby 20.10:
    daemon/container.go validateRestartPolicy and validateHostConfig; newer moby
    prefixes "invalid restart policy: " and lists the names)."""
    policy = host_config.get("RestartPolicy") or {}
    if not isinstance(policy, dict):
        raise InvalidParameter("invalid restart policy: must be an object")
    name = policy.get("Name") or ""
    retries = policy.get("MaximumRetryCount") or 0
    if not isinstance(name, str) or isinstance(retries, bool) or not isinstance(retries, int):
        raise InvalidParameter("invalid restart policy: Name must be a string and "
                               "MaximumRetryCount an integer")
    if name in ("always", "unless-stopped", "no"):
        if retries != 0:
            raise InvalidParameter("maximum retry count cannot be used with restart "
                                   f"policy '{name}'")
    elif name == "on-failure":
        if retries < 0:
            raise InvalidParameter("maximum retry count cannot be negative")
    elif name != "":
        raise InvalidParameter(f"invalid restart policy '{name}'")
    if host_config.get("AutoRemove") and name not in ("", "no"):
        raise InvalidParameter("can't create 'AutoRemove' container with restart policy")


class RestartManager:
    """One container's restart decisions between two `docker start`s."""

    def __init__(self, host_config: dict, restart_count: int) -> None:
        self.name, self.max_retries = policy_of(host_config)
        self.restart_count = restart_count
        self.delay = 0.0
        self.cancelled = threading.Event()  # set: no exit is restarted any more

    def cancel(self) -> None:
        self.cancelled.set()

    def set_policy(self, host_config: dict) -> None:
        """`docker update --restart`: the next exit is judged by the new policy
        (moby's restartManager.SetPolicy)."""
        self.name, self.max_retries = policy_of(host_config)

    def should_restart(self, exit_code: int, manually_stopped: bool,
                       ran_for: float) -> float | None:
        """The wait before the restart, or None if this exit is the end."""
        if self.name == "no" or self.cancelled.is_set():
            return None
        if ran_for >= HEALTHY_RUN:
            self.delay = 0.0
        self.delay = FIRST_DELAY if self.delay == 0 else min(self.delay * MULTIPLIER,
                                                              MAX_DELAY)
        if self.name == "always":
            restart = True
        elif self.name == "unless-stopped":
            restart = not manually_stopped
        else:  # on-failure: 0 retries means no limit
            within = self.max_retries == 0 or self.restart_count < self.max_retries
            restart = within and exit_code != 0
        if not restart:
            return None
        self.restart_count += 1
        return self.delay

    def wait(self, delay: float) -> bool:
        """Sleep out the back-off; False if a stop cancelled the restart meanwhile."""
        return not self.cancelled.wait(delay)
