"""`logs`: stdout and stderr kept apart, --tail, -t timestamps, -f following."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z (.*)$")


def finished(clients, name: str, *command: str, options: tuple[str, ...] = ()) -> None:
    result = clients.docker("run", "--name", name, *options, "busybox", *command)
    assert result.returncode == 0, result.stderr


def test_logs_keeps_stdout_and_stderr_apart(cli, clients) -> None:
    name = clients.name()
    finished(clients, name, "sh", "-c", "echo out1; echo err1 >&2; echo out2")
    result = cli("logs", name)
    assert result.returncode == 0
    assert result.stdout == "out1\nout2\n"
    assert result.stderr == "err1\n"


def test_logs_tail(cli, clients) -> None:
    name = clients.name()
    finished(clients, name, "seq", "1", "5")
    assert cli("logs", "--tail", "2", name).stdout == "4\n5\n"
    assert cli("logs", "--tail", "all", name).stdout == "1\n2\n3\n4\n5\n"


def test_logs_timestamps(cli, clients) -> None:
    name = clients.name()
    before = datetime.now(UTC).replace(microsecond=0)
    finished(clients, name, "sh", "-c", "echo first; echo second")
    lines = cli("logs", "-t", name).stdout.splitlines()
    assert len(lines) == 2
    for line, text in zip(lines, ["first", "second"], strict=True):
        match = TIMESTAMP.match(line)
        assert match, line
        assert match.group(3) == text
        stamp = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)
        assert before <= stamp <= datetime.now(UTC)


def test_logs_follow_ends_when_the_container_exits(cli, clients) -> None:
    name = clients.name()
    result = clients.docker("run", "-d", "--name", name, "busybox", "sh", "-c",
                            "for i in 1 2 3; do echo line$i; sleep 0.4; done")
    assert result.returncode == 0
    began = time.monotonic()
    followed = cli("logs", "-f", name, timeout=20)
    assert followed.returncode == 0
    assert followed.stdout == "line1\nline2\nline3\n"
    assert time.monotonic() - began > 0.3  # it waited for lines still to come
    assert clients.inspect(name)["State"]["Running"] is False


def test_logs_of_a_tty_container_are_raw(clients) -> None:
    name = clients.name()
    finished(clients, name, "sh", "-c", "echo a; echo b >&2", options=("-t",))
    assert clients.docker("logs", name, binary=True).stdout == b"a\r\nb\r\n"


def test_docker_py_logs_select_streams(clients) -> None:
    name = clients.name()
    finished(clients, name, "sh", "-c", "echo out; echo err >&2")
    container = clients.py.containers.get(name)
    assert container.logs(stdout=True, stderr=False) == b"out\n"
    assert container.logs(stdout=False, stderr=True) == b"err\n"
    # the two streams are copied apart, so their interleaving is not guaranteed
    assert sorted(container.logs().splitlines()) == [b"err", b"out"]
