"""`-t` under a real terminal: the container gets a pty the size of the user's."""

from __future__ import annotations

import pytest

from tests.behaviour.pty import PtySession


def command(clients, kind: str) -> list[str]:
    return clients.docker_command() if kind == "docker" else clients.ours_command()


@pytest.mark.parametrize("kind", ["docker", "ours"])
def test_it_gives_a_pty_of_the_terminal_size(clients, kind: str) -> None:
    session = PtySession([*command(clients, kind), "run", "-it", "--rm", "busybox", "sh"],
                         clients.cli_env(), rows=33, cols=111)
    try:
        session.read_until(b"# ")
        assert b"/dev/pts/0\r\n" in session.command("tty")
        session.wait_for_size(33, 111)
        session.send("exit\n")
        assert session.finish() == 0
    finally:
        session.close()


@pytest.mark.parametrize("kind", ["docker", "ours"])
def test_resize_reaches_the_container(clients, kind: str) -> None:
    session = PtySession([*command(clients, kind), "run", "-it", "--rm", "busybox", "sh"],
                         clients.cli_env(), rows=24, cols=80)
    try:
        session.read_until(b"# ")
        session.wait_for_size(24, 80)
        session.resize(40, 132)
        session.wait_for_size(40, 132, resignal=True)
        session.send("exit 6\n")
        assert session.finish() == 6
    finally:
        session.close()


@pytest.mark.parametrize("kind", ["docker", "ours"])
def test_interactive_shell_echoes_and_runs(clients, kind: str) -> None:
    session = PtySession([*command(clients, kind), "run", "-it", "--rm", "busybox", "sh"],
                         clients.cli_env())
    try:
        session.read_until(b"# ")
        out = session.command("echo $((6*7))")
        assert b"echo $((6*7))\r\n42\r\n" in out  # echoed by the pty, then run
        session.send("exit\n")
        assert session.finish() == 0
    finally:
        session.close()


@pytest.mark.parametrize("kind", ["docker", "ours"])
def test_exec_it_under_a_pty(clients, kind: str) -> None:
    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "busybox", "sleep", "60").returncode == 0
    session = PtySession([*command(clients, kind), "exec", "-it", name, "sh"],
                         clients.cli_env(), rows=21, cols=77)
    try:
        session.read_until(b"# ")
        assert b"/dev/pts/" in session.command("tty")
        session.wait_for_size(21, 77)
        session.send("exit 2\n")
        assert session.finish() == 2
    finally:
        session.close()
