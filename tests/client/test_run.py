"""`run` and its exit statuses, with our CLI and the docker CLI alike."""

from __future__ import annotations

import pytest


def test_run_prints_output(cli) -> None:
    result = cli("run", "--rm", "busybox", "echo", "hi")
    assert (result.returncode, result.stdout) == (0, "hi\n"), result.stderr


def test_exit_status_and_stderr_are_kept_apart(cli) -> None:
    result = cli("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert result.returncode == 3
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"


def test_flags_stop_at_the_image(cli) -> None:
    """`-l` after IMAGE belongs to the container's command, not to the CLI."""
    result = cli("run", "--rm", "busybox", "sh", "-c", 'echo "$@"', "sh", "-l", "--rm")
    assert result.stdout == "-l --rm\n", result.stderr


def test_piped_stdin_reaches_the_container(cli) -> None:
    result = cli("run", "--rm", "-i", "busybox", "tr", "a-z", "A-Z", input="piped\ninput\n")
    assert (result.returncode, result.stdout) == (0, "PIPED\nINPUT\n"), result.stderr


def test_large_output_arrives_whole(cli) -> None:
    result = cli("run", "--rm", "busybox", "sh", "-c", "seq 1 20000")
    assert result.stdout == "".join(f"{i}\n" for i in range(1, 20001))


def test_config_flags(cli) -> None:
    result = cli("run", "--rm", "-e", "A=1", "--env=B=two", "-w", "/tmp", "-u", "1234:5678",
                 "-h", "boxy", "busybox", "sh", "-c", 'echo $A $B $(pwd) $(id -u):$(id -g) '
                 '$(hostname)')
    assert result.stdout == "1 two /tmp 1234:5678 boxy\n", result.stderr


def test_entrypoint_replaces_the_images(cli) -> None:
    result = cli("run", "--rm", "--entrypoint", "echo", "busybox", "from", "echo")
    assert result.stdout == "from echo\n", result.stderr


def test_limits_reach_the_host_config(cli, name) -> None:
    result = cli("create", "--name", name, "-m", "64m", "--pids-limit", "50", "--cpus", "0.5",
                 "--cpu-shares", "512", "--network", "none", "busybox", "true")
    assert result.returncode == 0, result.stderr
    shown = cli("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} "
                "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.NetworkMode}}",
                name)
    assert shown.stdout == f"{64 << 20} 50 500000000 512 none\n", shown.stderr


def test_command_not_found_is_127(cli) -> None:
    result = cli("run", "--rm", "busybox", "no-such-command")
    assert result.returncode == 127
    assert "Error response from daemon:" in result.stderr


def test_command_not_executable_is_126(cli) -> None:
    result = cli("run", "--rm", "busybox", "/etc")
    assert result.returncode == 126
    assert "Error response from daemon:" in result.stderr


def test_unknown_image_is_125(cli) -> None:
    """Missing locally, so the CLI pulls, from a registry on loopback that is not
    there (traffic in tests stays on this machine): the pull fails, exit 125."""
    result = cli("run", "--rm", "127.0.0.1:9/no-such-image", "true")
    assert result.returncode == 125
    assert result.stderr.startswith(
        "Unable to find image '127.0.0.1:9/no-such-image:latest' locally\n")
    assert "Error response from daemon:" in result.stderr


def test_bad_flag_value_is_125(cli) -> None:
    result = cli("run", "--rm", "-m", "10x", "busybox", "true")
    assert result.returncode == 125
    assert 'invalid argument "10x" for "-m, --memory" flag' in result.stderr


def test_unknown_flag_is_125(cli) -> None:
    result = cli("run", "--no-such-flag", "busybox", "true")
    assert result.returncode == 125
    assert "unknown flag: --no-such-flag" in result.stderr


def test_name_conflict_is_125(cli, name) -> None:
    assert cli("create", "--name", name, "busybox", "true").returncode == 0
    result = cli("run", "--rm", "--name", name, "busybox", "true")
    assert result.returncode == 125
    assert "Error response from daemon: Conflict" in result.stderr or \
        "is already in use" in result.stderr


def test_tty_needs_a_terminal_for_input(cli) -> None:
    result = cli("run", "--rm", "-it", "busybox", "true", input="")
    assert result.returncode == 1
    assert "the input device is not a TTY" in result.stderr


@pytest.mark.parametrize("status", [0, 1, 42, 255])
def test_run_passes_exit_status(cli, status: int) -> None:
    assert cli("run", "--rm", "busybox", "sh", "-c", f"exit {status}").returncode == status
