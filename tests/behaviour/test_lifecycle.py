"""Stopping, killing, restarting, waiting, attaching and removing containers."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from tests.behaviour.clients import wait_until
from tests.engines import UnixHTTPConnection

# pid 1 gets no default signal handlers: this loop dies only by its own trap or SIGKILL
TRAP_TERM = 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done'


def start_detached(clients, name: str, *command: str, options: tuple[str, ...] = ()) -> str:
    result = clients.docker("run", "-d", "--name", name, *options, "busybox", *command)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def wait_logged(clients, name: str, text: str) -> None:
    wait_until(lambda: text in clients.docker("logs", name).stdout, 10, f"{text!r} in logs")


def test_stop_of_pid1_ignoring_term_takes_the_timeout(cli, clients) -> None:
    name = clients.name()
    start_detached(clients, name, "sleep", "60")
    began = time.monotonic()
    result = cli("stop", "-t", "1", name)
    took = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    assert 0.9 <= took < 5, f"stop -t 1 took {took:.2f} s"
    state = clients.inspect(name)["State"]
    assert (state["Running"], state["Status"], state["ExitCode"]) == (False, "exited", 137)


def test_stop_of_a_trapping_process_is_quick_with_its_own_code(cli, clients) -> None:
    name = clients.name()
    start_detached(clients, name, "sh", "-c", TRAP_TERM)
    wait_logged(clients, name, "ready")
    began = time.monotonic()
    assert cli("stop", name).returncode == 0
    assert time.monotonic() - began < 5
    assert clients.inspect(name)["State"]["ExitCode"] == 7


def test_stop_of_a_stopped_container_succeeds(clients) -> None:
    name = clients.name()
    assert clients.docker("create", "--name", name, "busybox", "true").returncode == 0
    assert clients.api("POST", f"/containers/{name}/stop").status == 304
    assert clients.docker("stop", name).returncode == 0


def test_kill_is_sigkill_137(cli, clients) -> None:
    name = clients.name()
    start_detached(clients, name, "sleep", "60")
    assert cli("kill", name).returncode == 0
    result = cli("wait", name)
    assert (result.returncode, result.stdout) == (0, "137\n")


def test_kill_s_delivers_the_signal(cli, clients) -> None:
    name = clients.name()
    start_detached(clients, name, "sh", "-c",
                   'trap "echo got-usr1; exit 5" USR1; echo ready; while :; do sleep 0.1; done')
    wait_logged(clients, name, "ready")
    assert cli("kill", "-s", "USR1", name).returncode == 0
    assert cli("wait", name).stdout == "5\n"
    assert "got-usr1" in clients.docker("logs", name).stdout


def test_kill_with_a_bad_signal_is_400(clients) -> None:
    name = clients.name()
    start_detached(clients, name, "sleep", "60")
    reply = clients.api("POST", f"/containers/{name}/kill?signal=NOPE")
    assert (reply.status, reply.message) == (400, "Invalid signal: NOPE")
    assert clients.inspect(name)["State"]["Running"] is True


def test_kill_of_a_stopped_container_is_409(clients) -> None:
    name = clients.name()
    cid = clients.docker("create", "--name", name, "busybox", "true").stdout.strip()
    reply = clients.api("POST", f"/containers/{name}/kill")
    assert reply.status == 409
    assert f"Container {cid} is not running" in reply.message


def test_restart_keeps_the_id_with_a_new_start(cli, clients) -> None:
    name = clients.name()
    cid = start_detached(clients, name, "sh", "-c", TRAP_TERM)
    wait_logged(clients, name, "ready")
    first = clients.inspect(name)["State"]
    assert cli("restart", "-t", "5", name).returncode == 0
    after = clients.inspect(name)
    assert after["Id"] == cid
    assert after["State"]["Running"] is True
    assert after["State"]["StartedAt"] > first["StartedAt"]
    assert after["State"]["Pid"] != first["Pid"]


def test_rm_f_removes_a_running_container(cli, clients) -> None:
    name = clients.name()
    start_detached(clients, name, "sleep", "60")
    assert cli("rm", "-f", name).returncode == 0
    assert clients.api("GET", f"/containers/{name}/json").status == 404


def test_rm_of_a_running_container_is_409(cli, clients) -> None:
    name = clients.name()
    cid = start_detached(clients, name, "sleep", "60")
    result = cli("rm", name)
    assert result.returncode == 1
    reply = clients.api("DELETE", f"/containers/{name}")
    assert reply.status == 409
    assert reply.message == (f"You cannot remove a running container {cid}. Stop the container "
                             "before attempting removal or force remove")
    assert reply.message in result.stderr
    assert clients.inspect(name)["State"]["Running"] is True


def test_wait_not_running_returns_at_once_for_a_created_container(clients) -> None:
    name = clients.name()
    clients.docker("create", "--name", name, "busybox", "true")
    reply = clients.api("POST", f"/containers/{name}/wait?condition=not-running", timeout=5)
    assert reply.status == 200
    assert reply.json()["StatusCode"] == 0


def open_wait(clients, name: str, condition: str) -> tuple[UnixHTTPConnection, object]:
    """Send a wait request and read its headers: the engine has registered the wait."""
    conn = UnixHTTPConnection(str(clients.engine.socket), timeout=30)
    conn.request("POST", f"/containers/{name}/wait?condition={condition}")
    reply = conn.getresponse()
    assert reply.status == 200
    return conn, reply


def test_wait_next_exit_reports_the_coming_exit(clients) -> None:
    name = clients.name()
    clients.docker("create", "--name", name, "busybox", "sh", "-c", "exit 4")
    conn, reply = open_wait(clients, name, "next-exit")
    try:
        assert clients.api("POST", f"/containers/{name}/start").status == 204
        import json

        assert json.loads(reply.read())["StatusCode"] == 4  # type: ignore[attr-defined]
    finally:
        conn.close()


def test_wait_removed_returns_when_removed(clients) -> None:
    name = clients.name()
    clients.docker("create", "--name", name, "busybox", "true")
    conn, reply = open_wait(clients, name, "removed")
    try:
        assert clients.api("DELETE", f"/containers/{name}").status == 204
        import json

        assert json.loads(reply.read())["StatusCode"] == 0  # type: ignore[attr-defined]
    finally:
        conn.close()


def test_docker_py_wait(clients) -> None:
    container = clients.py.containers.run("busybox", ["sh", "-c", "sleep 0.3; exit 9"],
                                          detach=True, name=clients.name())
    assert container.wait(timeout=20)["StatusCode"] == 9


@pytest.mark.parametrize("kind", ["docker", "ours"])
def test_attach_to_a_running_container(clients, kind: str) -> None:
    name = clients.name()
    start_detached(clients, name, "sh", "-c", "read line; echo got $line; exit 3",
                   options=("-i",))
    base = clients.docker_command() if kind == "docker" else clients.ours_command()
    # like a user at a keyboard: stdin stays open until the answer is seen (docker 20.10
    # drops the output of a container whose attached stdin already hit end-of-file)
    proc = subprocess.Popen([*base, "attach", name], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clients.cli_env())
    killer = threading.Timer(20, proc.kill)
    killer.start()
    try:
        assert proc.stdin and proc.stdout
        proc.stdin.write(b"abc\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"got abc\n"
        proc.stdin.close()
        assert proc.wait() == 3
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]


def test_docker_py_attach_streams_output(clients) -> None:
    name = clients.name()
    container = clients.py.containers.create(
        "busybox", ["sh", "-c", "read x; echo one; echo two"], name=name, stdin_open=True)
    sock = container.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
    raw = sock._sock  # docker-py hands back the socket wrapped in a SocketIO
    try:
        container.start()
        raw.sendall(b"go\n")
        data = b""
        done = threading.Event()

        def read() -> None:
            nonlocal data
            while chunk := raw.recv(4096):
                data += chunk
            done.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert done.wait(15), data
    finally:
        raw.close()
    # without a tty the stream is framed: [1, 0, 0, 0, length] then the bytes
    assert b"one\n" in data and b"two\n" in data and data[0] == 1
