"""Detached containers, logs, exec, ps, inspect, images, stop/kill/restart/rm, errors."""

from __future__ import annotations

import json
import signal
import subprocess
import time

from tests.client.conftest import OURS
from tests.engines import repo_env

TICKER = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"


def wait_for_output(cli, name: str, text: str, timeout: float = 10) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        logs = cli("logs", name).stdout
        if text in logs:
            return logs
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in the logs of {name}")


def test_detach_logs_stop_rm(cli, name) -> None:
    started = cli("run", "-d", "--name", name, "busybox", "sh", "-c", TICKER)
    assert started.returncode == 0, started.stderr
    container_id = started.stdout.strip()
    assert len(container_id) == 64 and int(container_id, 16) >= 0

    wait_for_output(cli, name, "tick 3")
    tail = cli("logs", "--tail", "2", name).stdout.splitlines()
    assert len(tail) == 2 and all(line.startswith("tick ") for line in tail)
    stamped = cli("logs", "-t", "--tail", "1", name).stdout
    assert stamped[:4].isdigit() and "T" in stamped.split()[0]

    listed = cli("ps").stdout.splitlines()
    assert listed[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                                 "PORTS", "NAMES"]
    row = next(line for line in listed if line.endswith(name))
    assert row.startswith(container_id[:12]) and " Up " in row
    assert container_id[:12] in cli("ps", "-q").stdout.split()
    assert container_id in cli("ps", "-q", "--no-trunc").stdout.split()

    stopped = cli("stop", "-t", "1", name)
    assert (stopped.returncode, stopped.stdout) == (0, f"{name}\n"), stopped.stderr
    assert container_id[:12] not in cli("ps", "-q").stdout.split()
    assert container_id[:12] in cli("ps", "-a", "-q").stdout.split()
    assert cli("wait", name).stdout == "137\n"  # sh as pid 1 ignores SIGTERM: killed

    removed = cli("rm", name)
    assert (removed.returncode, removed.stdout) == (0, f"{name}\n"), removed.stderr
    assert container_id[:12] not in cli("ps", "-a", "-q").stdout.split()


def test_logs_follow_ends_with_the_container(cli, name) -> None:
    assert cli("run", "-d", "--name", name, "busybox", "sh", "-c",
               "for i in 1 2 3; do echo line $i; echo err $i >&2; sleep 0.2; done").returncode == 0
    followed = cli("logs", "-f", name, timeout=20)
    assert followed.stdout == "line 1\nline 2\nline 3\n"
    assert followed.stderr == "err 1\nerr 2\nerr 3\n"


def test_logs_of_a_tty_container_are_raw(cli, name) -> None:
    assert cli("run", "-d", "-t", "--name", name, "busybox", "echo", "hello").returncode == 0
    cli("wait", name)
    # The pty made the newline \r\n; text-mode subprocess output reads it back as \n.
    # Read as frames, the 8-byte header would be missing the "hell" of hello.
    assert cli("logs", name).stdout == "hello\n"


def test_exec(cli, name) -> None:
    assert cli("run", "-d", "--name", name, "busybox", "sleep", "60").returncode == 0
    result = cli("exec", name, "sh", "-c", "echo out; echo err >&2; exit 4")
    assert (result.returncode, result.stdout, result.stderr) == (4, "out\n", "err\n")

    piped = cli("exec", "-i", name, "tr", "a-z", "A-Z", input="exec stdin\n")
    assert (piped.returncode, piped.stdout) == (0, "EXEC STDIN\n"), piped.stderr

    shaped = cli("exec", "-e", "X=42", "-w", "/tmp", "-u", "99", name, "sh", "-c",
                 'echo $X $(pwd) $(id -u)')
    assert shaped.stdout == "42 /tmp 99\n", shaped.stderr

    assert cli("exec", "-d", name, "touch", "/tmp/detached").returncode == 0
    deadline = time.monotonic() + 5
    while cli("exec", name, "test", "-e", "/tmp/detached").returncode != 0:
        assert time.monotonic() < deadline, "exec -d never ran"
        time.sleep(0.1)
    assert cli("rm", "-f", name).returncode == 0


def test_create_start_attach_wait(cli, name) -> None:
    created = cli("create", "--name", name, "busybox", "sh", "-c", "echo started; exit 6")
    assert created.returncode == 0, created.stderr
    attached = cli("start", "-a", name)
    assert (attached.returncode, attached.stdout) == (6, "started\n"), attached.stderr
    again = cli("start", name)
    assert (again.returncode, again.stdout) == (0, f"{name}\n")
    assert cli("wait", name).stdout == "6\n"


def test_start_interactive(cli, name) -> None:
    assert cli("create", "-i", "--name", name, "busybox", "wc", "-l").returncode == 0
    result = cli("start", "-a", "-i", name, input="1\n2\n3\n")
    assert (result.returncode, result.stdout.strip()) == (0, "3"), result.stderr


def test_kill_and_restart(cli, name) -> None:
    assert cli("run", "-d", "--name", name, "busybox", "sh", "-c",
               "trap 'exit 12' USR1; while true; do sleep 0.1; done").returncode == 0
    time.sleep(0.3)
    restarted = cli("restart", "-t", "1", name)
    assert (restarted.returncode, restarted.stdout) == (0, f"{name}\n")
    state = cli("inspect", "-f", "{{.State.Running}} {{.RestartCount}}", name).stdout
    assert state.split()[0] == "true"
    time.sleep(0.3)
    killed = cli("kill", "-s", "USR1", name)
    assert (killed.returncode, killed.stdout) == (0, f"{name}\n"), killed.stderr
    assert cli("wait", name).stdout == "12\n"


def test_inspect(cli, name) -> None:
    assert cli("create", "--name", name, "busybox", "echo", "x").returncode == 0
    result = cli("inspect", name)
    assert result.returncode == 0
    [container] = json.loads(result.stdout)
    assert container["Name"] == f"/{name}"
    assert container["Config"]["Cmd"] == ["echo", "x"]
    formatted = cli("inspect", "--format", "{{.State.Status}} {{json .Config.Cmd}}", name)
    assert formatted.stdout == 'created ["echo","x"]\n'
    [image] = json.loads(cli("inspect", "busybox").stdout)
    assert "busybox:latest" in image["RepoTags"]


def test_images(cli) -> None:
    listed = cli("images").stdout.splitlines()
    assert listed[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    row = next(line.split() for line in listed[1:] if line.startswith("busybox "))
    assert row[1] == "latest" and len(row[2]) == 12
    assert row[2] in cli("images", "-q").stdout.split()


def test_unknown_container(cli) -> None:
    for verb in (["rm"], ["stop"], ["kill"], ["logs"], ["start"], ["restart"], ["wait"],
                 ["exec", "-i"]):
        args = [*verb, "no-such-container"] + (["true"] if verb[0] == "exec" else [])
        result = cli(*args, input="")
        assert result.returncode == 1, (verb, result.stderr)
        assert result.stderr.startswith("Error response from daemon: "), (verb, result.stderr)
        assert "No such container: no-such-container" in result.stderr, (verb, result.stderr)


def test_unknown_object_for_inspect(cli) -> None:
    result = cli("inspect", "no-such-thing")
    assert result.returncode == 1
    assert result.stdout.strip() == "[]"
    assert "Error: No such object: no-such-thing" in result.stderr


def test_unknown_image_for_rmi(cli) -> None:
    result = cli("rmi", "no-such-image")
    assert result.returncode == 1
    assert "Error response from daemon: No such image: no-such-image:latest" in result.stderr


def test_version_and_info(cli) -> None:
    version = cli("version")
    assert version.returncode == 0 and "Server" in version.stdout and "Engine" in version.stdout
    info = cli("info")
    assert info.returncode == 0 and "Containers:" in info.stdout


def test_no_daemon(tmp_path) -> None:
    sock = tmp_path / "nobody.sock"
    result = subprocess.run([*OURS, "-H", f"unix://{sock}", "ps"], capture_output=True,
                            text=True, env=repo_env())
    assert result.returncode == 1
    assert result.stderr == (f"Cannot connect to the Whalebones daemon at unix://{sock}. "
                             "Is it running? (make stage-4)\n")


def test_attach_to_a_running_container(cli, name) -> None:
    assert cli("run", "-d", "-i", "--name", name, "busybox", "sh", "-c",
               "read line; echo got $line; exit 3").returncode == 0
    attached = cli("attach", name, input="hello\n")
    # The daemon may end the session as soon as our stdin ends (before the reply is
    # written): docker's CLI and ours alike. The input got there, and the status is kept.
    assert attached.returncode == 3, attached.stderr
    assert cli("logs", name).stdout == "got hello\n"


def test_attach_to_a_stopped_container(cli, name) -> None:
    assert cli("create", "--name", name, "busybox", "true").returncode == 0
    result = cli("attach", name)
    assert result.returncode == 1
    assert "You cannot attach to a stopped container, start it first" in result.stderr


def test_signals_are_proxied_to_the_container(cli) -> None:
    """Without a TTY, Ctrl-C at our terminal reaches the container (docker's --sig-proxy)."""
    process = subprocess.Popen(
        [*cli.argv, "run", "--rm", "busybox", "sh", "-c",
         "trap 'echo caught; exit 42' INT; echo ready; while :; do sleep 0.1; done"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, env=cli.env)
    try:
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 42
        assert process.stdout.read() == "caught\n"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
