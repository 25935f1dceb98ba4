"""`exec`: a second process inside a running container."""

from __future__ import annotations

import pytest

from tests.behaviour.clients import wait_until


@pytest.fixture
def running(clients) -> str:
    name = clients.name()
    result = clients.docker("run", "-d", "--name", name, "-h", "exec-host", "busybox",
                            "sleep", "60")
    assert result.returncode == 0, result.stderr
    return name


def test_exec_output_and_exit_code(cli, running) -> None:
    result = cli("exec", running, "sh", "-c", "echo hi; echo oops >&2; exit 4")
    assert (result.returncode, result.stdout) == (4, "hi\n")
    assert "oops" in result.stderr


def test_exec_env_workdir_user(cli, running) -> None:
    result = cli("exec", "-e", "A=b", "-w", "/tmp", "-u", "nobody", running,
                 "sh", "-c", 'echo "$A"; pwd; id -u; echo "$PATH"')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "b", "/tmp", "65534", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def test_exec_shares_hostname_and_pids(cli, running) -> None:
    result = cli("exec", running, "sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["exec-host", "sleep 60 "]


def test_exec_i_passes_stdin(cli, running) -> None:
    result = cli("exec", "-i", running, "tr", "a-z", "A-Z", input="quiet\n")
    assert (result.returncode, result.stdout) == (0, "QUIET\n")


def test_exec_t_gives_a_pty(cli, running) -> None:
    result = cli("exec", "-t", running, "tty", binary=True)
    assert result.returncode == 0
    assert result.stdout.startswith(b"/dev/pts/") and result.stdout.endswith(b"\r\n")


def test_exec_d_runs_in_the_background(cli, clients, running) -> None:
    result = cli("exec", "-d", running, "sh", "-c", "sleep 0.2; echo done > /tmp/flag")
    assert (result.returncode, result.stdout) == (0, "")
    wait_until(lambda: clients.docker("exec", running, "cat", "/tmp/flag").stdout == "done\n",
               10, "the detached exec to finish")


def test_exec_unknown_command_fails_to_start(cli, running) -> None:
    # Docker 20.10 answers 126 here, newer Dockers (and Whalebones) 127, the shell's
    # "command not found"; the reason comes in the stream either way.
    result = cli("exec", running, "nosuchcommand")
    assert result.returncode in (126, 127)
    assert "executable file not found" in result.stdout + result.stderr


def test_exec_in_a_stopped_container_is_409(cli, clients) -> None:
    name = clients.name()
    cid = clients.docker("create", "--name", name, "busybox", "true").stdout.strip()
    result = cli("exec", name, "true")
    assert result.returncode != 0
    assert f"Container {cid} is not running" in result.stderr
    reply = clients.api("POST", f"/containers/{name}/exec", {"Cmd": ["true"]})
    assert (reply.status, reply.message) == (409, f"Container {cid} is not running")


def test_docker_py_exec_run_and_inspect(clients, running) -> None:
    container = clients.py.containers.get(running)
    exit_code, output = container.exec_run(["sh", "-c", "echo $X; exit 2"], environment={"X": "y"})
    assert (exit_code, output) == (2, b"y\n")
    created = clients.api("POST", f"/containers/{running}/exec",
                          {"Cmd": ["true"], "AttachStdout": True})
    assert created.status == 201
    exec_id = created.json()["Id"]
    info = clients.api("GET", f"/exec/{exec_id}/json").json()
    assert info["Running"] is False and info["ExitCode"] is None


BOTH = ["sh", "-c", "echo out; sleep 0.2; echo err >&2; sleep 0.2; echo end"]


def test_docker_py_exec_demux_modes(clients, running) -> None:
    """docker-py's exec_run: with a TTY one stream, raw, with the terminal's CRLF; without
    one the frames keep stdout and stderr apart (demux) or merged in order."""
    container = clients.py.containers.get(running)
    assert container.exec_run(BOTH) == (0, b"out\nerr\nend\n")
    assert container.exec_run(BOTH, demux=True) == (0, (b"out\nend\n", b"err\n"))
    assert container.exec_run(BOTH, tty=True) == (0, b"out\r\nerr\r\nend\r\n")
    # a TTY has no stderr of its own: everything is stdout
    assert container.exec_run(BOTH, tty=True, demux=True) == (0, (b"out\r\nerr\r\nend\r\n",
                                                                  None))


def test_docker_py_exec_streams_as_it_runs(clients, running) -> None:
    container = clients.py.containers.get(running)
    for tty, nl in ((True, b"\r\n"), (False, b"\n")):
        result = container.exec_run(BOTH, tty=tty, stream=True)
        chunks = list(result.output)
        assert len(chunks) >= 3  # as they came, not all at the end
        assert b"".join(chunks) == b"out" + nl + b"err" + nl + b"end" + nl
        demuxed = container.exec_run(BOTH, tty=tty, stream=True, demux=True)
        pieces = list(demuxed.output)
        if tty:
            assert all(err is None for _, err in pieces)
            assert b"".join(out for out, _ in pieces) == b"out\r\nerr\r\nend\r\n"
        else:
            assert b"".join(out or b"" for out, _ in pieces) == b"out\nend\n"
            assert b"".join(err or b"" for _, err in pieces) == b"err\n"


def test_exec_t_streams_one_raw_stream(cli, running) -> None:
    result = cli("exec", "-t", running, *BOTH, binary=True)
    assert result.returncode == 0
    assert (result.stdout, result.stderr) == (b"out\r\nerr\r\nend\r\n", b"")


def test_an_exec_ignores_and_blocks_no_signal(cli, running) -> None:
    """As the container's first process (test_run): nothing ignored or blocked."""
    result = cli("exec", running, "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status")
    assert result.stdout.split() == ["SigBlk:", "0000000000000000",
                                     "SigIgn:", "0000000000000000"], result.stderr
