"""`-t` under a real pseudo-terminal: raw mode, window size, restored terminal."""

from __future__ import annotations

from tests.behaviour.pty import PtySession
from tests.client.conftest import Cli


def session(cli: Cli, *args: str, rows: int = 33, cols: int = 101) -> PtySession:
    return PtySession([*cli.argv, *args], env=cli.env, rows=rows, cols=cols)


def test_interactive_shell(cli: Cli) -> None:
    shell = session(cli, "run", "--rm", "-it", "busybox", "sh")
    try:
        shell.read_until(b"/ # ")
        assert b"/dev/pts/0" in shell.command("tty")
        shell.wait_for_size(33, 101)
        shell.resize(40, 120)
        shell.wait_for_size(40, 120, resignal=True)
        shell.send("exit 5\n")
        assert shell.finish() == 5
    finally:
        shell.close()


def test_terminal_is_restored(cli: Cli) -> None:
    """Around the CLI, a shell on the same terminal sees cooked mode again."""
    script = f"{' '.join(cli.argv)} run --rm -it busybox true; echo status=$?; stty -a"
    outer = PtySession(["/bin/sh", "-c", script], env=cli.env)
    try:
        assert outer.finish() == 0
    finally:
        outer.close()
    text = outer.output.decode(errors="replace")
    assert "status=0" in text
    settings = text.split("status=0", 1)[1].split()
    assert "icanon" in settings and "echo" in settings, text


def test_tty_output_is_one_stream(cli: Cli) -> None:
    run = session(cli, "run", "--rm", "-t", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert run.finish() == 0
    # One stream, in order. Without -i neither CLI makes the local terminal raw, so on
    # top of the container pty's \r\n our own terminal adds a \r, as with docker.
    assert b"out\r\r\nerr\r\r\n" in run.output


def test_exec_with_a_tty(cli: Cli, name: str) -> None:
    assert cli("run", "-d", "--name", name, "busybox", "sleep", "60").returncode == 0
    shell = session(cli, "exec", "-it", name, "sh")
    try:
        shell.read_until(b"/ # ")
        assert b"/dev/pts/" in shell.command("tty")
        shell.send("exit 9\n")
        assert shell.finish() == 9
    finally:
        shell.close()


def test_detach_with_ctrl_p_ctrl_q(cli: Cli, name: str) -> None:
    shell = session(cli, "run", "-it", "--name", name, "busybox", "sh")
    try:
        shell.read_until(b"/ # ")
        shell.send("\x10\x11")
        assert shell.finish(timeout=10) == 0
    finally:
        shell.close()
    assert cli("inspect", "-f", "{{.State.Running}}", name).stdout == "true\n"
    assert cli("exec", name, "echo", "still here").stdout == "still here\n"
