"""shared/daemon/children.py: the table and the reaping of stages 1 and 2, with real
child processes (sh, sleep) standing in for containers: no root, no container. The
executors themselves are tested by tests/stages and the behaviour suite."""

from __future__ import annotations

import os
import signal

import pytest

from shared.daemon.children import ParentExecutor, Process, exit_status
from shared.daemon.executor import ExecutorError, ExitStatus, NotFoundError


def _child(*argv: str) -> Process:
    return Process(pid=os.posix_spawnp(argv[0], list(argv), os.environ))


class Parent(ParentExecutor[str, Process]):
    """A stand-in for an era's executor: its containers are names."""


def test_exit_status_is_the_shells() -> None:
    assert exit_status(0).code == 0 and exit_status(3).code == 3
    assert exit_status(-signal.SIGKILL).code == 137  # killed by signal N: 128 + N
    assert exit_status(-signal.SIGTERM, oom_killed=True).oom_killed


def test_reaped_status_waits_for_whoever_asks_however_late() -> None:
    parent = Parent()
    init = _child("sh", "-c", "exit 3")
    parent._keep("c1", None, init, container="container 1")
    parent._reap(init)
    assert parent.wait("c1").code == 3
    assert parent.wait("c1", None).code == 3  # asked again: still there
    assert parent._container("c1") == "container 1"
    with pytest.raises(OSError):
        os.waitpid(init.pid, os.WNOHANG)  # reaped: no zombie left (ECHILD)


def test_exec_signalled_until_it_exits() -> None:
    parent = Parent()
    init, sleeper = _child("sleep", "30"), _child("sleep", "30")
    parent._keep("c1", None, init, container="c")
    parent._keep("c1", "e1", sleeper)
    returncodes = []

    def status(returncode: int) -> ExitStatus:
        returncodes.append(returncode)
        return exit_status(returncode)

    parent._reap(init)
    parent._reap(sleeper, status)
    parent._signal_exec("c1", "e1", signal.SIGTERM)
    assert parent.wait("c1", "e1").code == 128 + signal.SIGTERM
    assert returncodes == [-signal.SIGTERM]
    parent._signal_exec("c1", "e1", signal.SIGTERM)  # exited: nothing is sent
    os.kill(init.pid, signal.SIGKILL)
    assert parent.wait("c1").code == 137


def test_forget_and_not_found() -> None:
    parent = Parent()
    init = Process(pid=1)
    parent._keep("c1", None, init, container="c")
    parent._keep("c1", "e1", Process(pid=2))
    parent._keep("c2", "e1", Process(pid=3))
    assert parent._forget("c1") == ("c", init)
    assert parent._forget("c1") == (None, None)
    with pytest.raises(NotFoundError, match="container c1 does not exist"):
        parent._container("c1")
    with pytest.raises(NotFoundError, match="process e1 of c1 does not exist"):
        parent.wait("c1", "e1")
    assert parent._proc("c2", "e1").pid == 3  # another container's stays
    with pytest.raises(ExecutorError, match="resize c2: the process has no terminal"):
        parent.resize("c2", "e1", 24, 80)
    with pytest.raises(NotFoundError, match="the daemon was its parent"):
        parent.restore("c1")
