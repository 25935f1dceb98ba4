"""`run`: what the process inside sees and what the user gets back, from both CLIs."""

from __future__ import annotations

import pytest


def test_exit_code_is_passed_through(cli) -> None:
    result = cli("run", "--rm", "busybox", "sh", "-c", "exit 3")
    assert result.returncode == 3, result.stderr


def test_output_reaches_stdout(cli) -> None:
    result = cli("run", "--rm", "busybox", "echo", "hello", "world")
    assert (result.returncode, result.stdout) == (0, "hello world\n"), result.stderr


def test_stdout_and_stderr_stay_separate(cli) -> None:
    result = cli("run", "--rm", "busybox", "sh", "-c", "echo to-out; echo to-err >&2")
    assert result.returncode == 0
    assert result.stdout == "to-out\n"
    assert "to-err\n" in result.stderr and "to-out" not in result.stderr


def test_stdin_is_piped_with_i(cli) -> None:
    result = cli("run", "-i", "--rm", "busybox", "tr", "a-z", "A-Z", input="hello\nthere\n")
    assert (result.returncode, result.stdout) == (0, "HELLO\nTHERE\n"), result.stderr


def test_without_i_stdin_is_not_passed(cli) -> None:
    result = cli("run", "--rm", "busybox", "sh", "-c", "cat; echo end", input="secret\n")
    assert (result.returncode, result.stdout) == (0, "end\n"), result.stderr


def test_command_not_found_exits_127(cli) -> None:
    result = cli("run", "--rm", "busybox", "nosuchcommand")
    assert result.returncode == 127
    assert "nosuchcommand" in result.stderr


@pytest.mark.parametrize(("cmd", "code"), [(["nosuchcommand"], 127), (["/etc/passwd"], 126)])
def test_a_command_that_cannot_run_is_recorded_as_127_or_126(clients, cmd, code) -> None:
    """The daemon, not only the CLI, says why: the failed start leaves the shell's exit
    code in the container's state (the docker CLI works out its own from the message)."""
    name = clients.name()
    reply = clients.api("POST", f"/containers/create?name={name}",
                        {"Image": "busybox", "Cmd": cmd})
    assert reply.status == 201, reply.body
    reply = clients.api("POST", f"/containers/{name}/start")
    assert reply.status >= 400 and cmd[0] in reply.message
    assert clients.inspect(name)["State"]["ExitCode"] == code


def test_command_not_executable_exits_126(cli) -> None:
    result = cli("run", "--rm", "busybox", "/etc/passwd")
    assert result.returncode == 126
    assert "permission denied" in result.stderr


def test_unknown_image_exits_125(cli) -> None:
    # Missing locally, so the CLI pulls: from a registry on loopback that is not there,
    # so that the attempt never leaves this machine.
    result = cli("run", "--rm", "127.0.0.1:9/nosuch")
    assert result.returncode == 125
    assert "Unable to find image '127.0.0.1:9/nosuch:latest' locally" in result.stderr


def test_tty_output_uses_crlf(cli) -> None:
    # with -t the container writes to a pty whose line discipline turns \n into \r\n
    result = cli("run", "--rm", "-t", "busybox", "echo", "hi", binary=True)
    assert (result.returncode, result.stdout) == (0, b"hi\r\n"), result.stderr


def test_image_path_and_env(cli) -> None:
    result = cli("run", "--rm", "-e", "GREETING=hi there", "-e", "EMPTY=", "busybox",
                 "sh", "-c", 'echo "$PATH"; echo "$GREETING"; echo "[$EMPTY]"; echo "$HOME"')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "hi there", "[]", "/root"]


def test_e_overrides_image_env(cli) -> None:
    result = cli("run", "--rm", "-e", "PATH=/bin", "busybox", "sh", "-c", 'echo "$PATH"')
    assert (result.returncode, result.stdout) == (0, "/bin\n"), result.stderr


def test_e_name_alone_takes_the_clients_value_or_is_dropped(cli) -> None:
    env = {"WB_FROM_CLIENT": "from client"}
    result = cli("run", "--rm", "-e", "WB_FROM_CLIENT", "-e", "WB_NOT_SET_ANYWHERE",
                 "busybox", "env", env=env)
    assert result.returncode == 0, result.stderr
    assert "WB_FROM_CLIENT=from client" in result.stdout.splitlines()
    assert "WB_NOT_SET_ANYWHERE" not in result.stdout


def test_env_file(cli, tmp_path) -> None:
    path = tmp_path / "env"
    # a BOM, comments, blank lines, indentation; values untrimmed; bare names from the
    # client's environment or dropped; then -e's on top
    path.write_bytes(b"\xef\xbb\xbfA=1\n  # a comment\n\n  B= 2 \n\tWB_FROM_CLIENT\n"
                     b"WB_NOT_SET_ANYWHERE\nC=x=y\n")
    result = cli("run", "--rm", "--env-file", str(path), "-e", "A=9", "busybox", "env",
                 env={"WB_FROM_CLIENT": "h"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert {"A=9", "B= 2 ", "WB_FROM_CLIENT=h", "C=x=y"} <= set(lines), lines
    assert "A=1" not in lines and "WB_NOT_SET_ANYWHERE" not in result.stdout


def test_env_file_errors_in_the_docker_clis_words(cli, tmp_path) -> None:
    missing = cli("run", "--rm", "--env-file", "/nonexistent-env", "busybox", "true")
    assert missing.returncode == 125
    assert "open /nonexistent-env: no such file or directory" in missing.stderr
    path = tmp_path / "env"
    path.write_text("A B=1\n")
    bad = cli("run", "--rm", "--env-file", str(path), "busybox", "true")
    assert bad.returncode == 125
    assert f"invalid env file ({path}): variable 'A B' contains whitespaces" in bad.stderr


def test_workdir(cli) -> None:
    result = cli("run", "--rm", "-w", "/tmp/made/here", "busybox", "pwd")
    assert (result.returncode, result.stdout) == (0, "/tmp/made/here\n"), result.stderr


@pytest.mark.parametrize(("user", "expected"), [
    ("nobody", "65534 65534"),  # the name resolves through the image's /etc/passwd
    ("1000:1000", "1000 1000"),
    ("0", "0 0"),
])
def test_user(cli, user: str, expected: str) -> None:
    result = cli("run", "--rm", "-u", user, "busybox", "sh", "-c", "echo $(id -u) $(id -g)")
    assert (result.returncode, result.stdout.strip()) == (0, expected), result.stderr


def test_unknown_user_fails_to_start(cli) -> None:
    result = cli("run", "--rm", "-u", "nosuchuser", "busybox", "id")
    assert result.returncode != 0
    assert "nosuchuser" in result.stderr


def test_hostname_is_short_id(cli, clients) -> None:
    name = clients.name()
    result = cli("run", "--name", name, "busybox", "hostname")
    assert result.returncode == 0, result.stderr
    assert result.stdout == clients.inspect(name)["Id"][:12] + "\n"


def test_h_sets_hostname(cli) -> None:
    result = cli("run", "--rm", "-h", "box.example", "busybox", "sh", "-c",
                 "hostname; cat /etc/hostname")
    assert (result.returncode, result.stdout) == (0, "box.example\nbox.example\n")


def test_process_is_pid_1_and_sees_few_processes(cli) -> None:
    result = cli("run", "--rm", "busybox", "sh", "-c", "echo $$; ps -o pid= | wc -l")
    assert result.returncode == 0, result.stderr
    pid, count = result.stdout.split()
    assert pid == "1"
    assert int(count) <= 4  # sh, ps and the pipe's helper: nothing of the host


def test_docker_py_run_returns_output(clients) -> None:
    out = clients.py.containers.run("busybox", ["sh", "-c", "echo from-py"], remove=True)
    assert out == b"from-py\n"


def test_docker_py_run_nonzero_raises(clients) -> None:
    import docker.errors

    with pytest.raises(docker.errors.ContainerError) as error:
        clients.py.containers.run("busybox", ["sh", "-c", "echo oops >&2; exit 5"], remove=True)
    assert error.value.exit_status == 5
    assert b"oops" in error.value.stderr


def test_a_fresh_container_ignores_and_blocks_no_signal(cli) -> None:
    """An ignored signal stays ignored across execve, and so does the signal mask: an
    engine written in Python (which ignores SIGPIPE and SIGXFSZ) must give them back.
    Docker's containers start clean."""
    result = cli("run", "--rm", "busybox", "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status")
    assert result.stdout.split() == ["SigBlk:", "0000000000000000",
                                     "SigIgn:", "0000000000000000"], result.stderr


def test_a_pipe_whose_reader_left_kills_its_writer(cli) -> None:
    """SIGPIPE at its default: `yes` dies of it (141) when `head` has read its line.
    With SIGPIPE ignored it would get EPIPE instead, print "Broken pipe", exit 1."""
    result = cli("run", "--rm", "busybox", "sh", "-c",
                 "set -o pipefail; yes | head -n 1; echo $?")
    assert result.stdout.split() == ["y", "141"], result.stderr
