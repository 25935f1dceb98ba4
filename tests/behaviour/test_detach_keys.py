"""Detach keys: leaving a TTY attach while the container runs on.

The docker CLI (and ours) watch for the sequence on a terminal and hang up; the daemon
watches too (moby's escape proxy in its attach copy), so a client that only writes
bytes to the socket detaches as well. Both are tested: the CLIs under a real pty, the
daemon through a raw hijacked connection.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from tests.behaviour.clients import Clients
from tests.behaviour.pty import PtySession

CTRL_P_CTRL_Q = "\x10\x11"


def command(clients: Clients, kind: str) -> list[str]:
    return clients.docker_command() if kind == "docker" else clients.ours_command()


def running(clients: Clients, name: str) -> bool:
    return bool(clients.inspect(name)["State"]["Running"])


def start_shell(clients: Clients) -> str:
    """A detached interactive shell with a TTY, to attach to."""
    name = clients.name()
    out = clients.docker("run", "-dit", "--name", name, "busybox", "sh")
    assert out.returncode == 0, out.stderr
    return name


@pytest.mark.parametrize("kind", ["docker", "ours"])
def test_ctrl_p_ctrl_q_leaves_run_it_and_the_container_runs_on(clients, kind: str) -> None:
    name = clients.name()
    session = PtySession([*command(clients, kind), "run", "-it", "--name", name, "busybox",
                          "sh"], clients.cli_env())
    try:
        session.read_until(b"# ")
        assert b"\r\n42\r\n" in session.command("echo $((6*7))")
        session.send(CTRL_P_CTRL_Q)
        assert session.finish() == 0
        assert b"escape" not in session.output  # run -it detaches quietly
    finally:
        session.close()
    assert running(clients, name)
    # and the shell is still there to attach to again: it kept its stdin
    session = PtySession([*command(clients, kind), "attach", name], clients.cli_env())
    try:
        session.command("")  # a fresh prompt
        assert b"\r\n7\r\n" in session.command("echo $((3+4))")
        session.send("exit 3\n")
        assert session.finish() == 3
    finally:
        session.close()


@pytest.mark.parametrize("kind", ["docker", "ours"])
def test_custom_detach_keys_on_attach_pass_partial_sequences_through(clients,
                                                                     kind: str) -> None:
    name = start_shell(clients)
    session = PtySession([*command(clients, kind), "attach", "--detach-keys", "z,q", name],
                         clients.cli_env())
    try:
        session.command("")  # a fresh prompt
        # "z" then another byte: not the sequence, so both reach the shell
        assert b"\r\nazyz\r\n" in session.command("echo azyz")
        session.send(CTRL_P_CTRL_Q)  # not these keys now: plain input for the shell
        session.send("\x15echo still\n")  # Ctrl-U clears the line first
        session.read_until(b"still\r\n")
        session.send("zq")
        assert session.finish() == 1  # the docker CLI's attach: an error, printed
        assert session.output.endswith(b"read escape sequence\r\n")
    finally:
        session.close()
    assert running(clients, name)


@pytest.mark.parametrize("kind", ["docker", "ours"])
def test_config_json_detach_keys(clients, kind: str, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"detachKeys": "ctrl-a,q"}))
    env = {**clients.cli_env(), "DOCKER_CONFIG": str(tmp_path)}
    name = start_shell(clients)
    session = PtySession([*command(clients, kind), "attach", name], env)
    try:
        session.command("")  # a fresh prompt
        session.send("\x01q")
        assert session.finish() == 1
        assert session.output.endswith(b"read escape sequence\r\n")
    finally:
        session.close()
    assert running(clients, name)


@pytest.mark.parametrize("kind", ["docker", "ours"])
def test_detach_from_exec_it_leaves_the_process_running(clients, kind: str) -> None:
    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "busybox", "sleep", "60").returncode == 0
    session = PtySession([*command(clients, kind), "exec", "-it", "--detach-keys", "ctrl-x,x",
                          name, "sh"], clients.cli_env())
    try:
        session.read_until(b"# ")
        session.send("exec sleep 77\n")
        session.read_until(b"sleep 77\r\n")
        session.send("\x18x")
        assert session.finish() == 1
        assert session.output.endswith(b"read escape sequence\r\n")
    finally:
        session.close()
    clients.wait_until(lambda: "sleep 77" in clients.docker("top", name).stdout,
                       what="the exec's process to run on")


# --- the daemon's side: a client that only writes bytes -------------------------------

def hijack(clients: Clients, path: str, body: dict | None = None) -> tuple[socket.socket, bytes]:
    """POST `path` with Upgrade: tcp; return the socket and the response head."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(15)
    sock.connect(str(clients.engine.socket))
    data = json.dumps(body).encode() if body is not None else b""
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\n"
                 f"Upgrade: tcp\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return sock, head


def read_to_end(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("keys, sequence", [("", b"\x10\x11"), ("ctrl-a,DEL", b"\x01\x7f")])
def test_the_daemon_ends_a_tty_attach_at_the_detach_keys(clients, keys: str,
                                                         sequence: bytes) -> None:
    name = start_shell(clients)
    query = "stream=1&stdin=1&stdout=1&stderr=1" + (f"&detachKeys={keys}" if keys else "")
    sock, head = hijack(clients, f"/containers/{name}/attach?{query}")
    try:
        assert head.startswith(b"HTTP/1.1 101"), head
        sock.sendall(b"echo one$((1+1))\n")
        seen = b""
        while b"one2" not in seen:
            seen += sock.recv(65536)
        # split across writes, and the half of it followed by other bytes passes
        sock.sendall(sequence[:1] + b"\x15")  # Ctrl-U: the shell drops the line
        time.sleep(0.2)
        sock.sendall(sequence[:1])
        time.sleep(0.2)
        sock.sendall(sequence[1:] + b"echo never\n")
        rest = read_to_end(sock)  # the daemon hangs up
    finally:
        sock.close()
    assert b"never" not in rest
    assert running(clients, name)
    events = clients.docker("events", "--since", "0", "--until", str(int(time.time()) + 1),
                            "--filter", f"container={name}", "--format", "{{.Action}}")
    assert "detach" in events.stdout.split(), events


def detach_exec_by_bytes(clients: Clients) -> tuple[str, str]:
    """An exec of `sh` with a TTY, detached by its keys sent down a raw connection;
    returns (container, exec id) once the daemon has hung up."""
    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "busybox", "sleep", "60").returncode == 0
    created = clients.api("POST", f"/containers/{name}/exec", {
        "Cmd": ["sh"], "Tty": True, "AttachStdin": True, "AttachStdout": True,
        "DetachKeys": "ctrl-x,x"})
    exec_id = created.json()["Id"]
    sock, head = hijack(clients, f"/exec/{exec_id}/start", {"Detach": False, "Tty": True})
    try:
        assert head.startswith(b"HTTP/1.1 101"), head
        seen = b""
        while b"# " not in seen:  # typed only at the prompt: a shell setting up its
            seen += sock.recv(65536)  # terminal may flush what came before
        sock.sendall(b"echo two$((1+1)); exec sleep 78\n")
        while b"two2" not in seen:
            seen += sock.recv(65536)
        sock.sendall(b"\x18x")
        read_to_end(sock)  # the daemon hangs up
    finally:
        sock.close()
    return name, exec_id


def test_the_daemon_ends_an_exec_stream_at_its_detach_keys(clients) -> None:
    detach_exec_by_bytes(clients)


@pytest.mark.ours_only(reason="dockerd 20.10, detaching an exec itself, lets its process "
                       "die (exec_die, exit code 126); moby's code means it to run on, "
                       "with an exec_detach event, as it does when the CLI hangs up "
                       "(test_detach_from_exec_it_leaves_the_process_running)")
def test_an_exec_detached_by_the_daemon_runs_on(clients) -> None:
    name, exec_id = detach_exec_by_bytes(clients)
    assert clients.api("GET", f"/exec/{exec_id}/json").json()["Running"] is True
    assert "sleep 78" in clients.docker("top", name).stdout
    events = clients.docker("events", "--since", "0", "--until", str(int(time.time()) + 1),
                            "--filter", f"container={name}", "--format", "{{.Action}}")
    assert "exec_detach" in events.stdout.split(), events


def test_invalid_detach_keys_are_refused(clients) -> None:
    name = start_shell(clients)
    reply = clients.api("POST", f"/containers/{name}/attach?stream=1&stdin=1&detachKeys=ctrl-P")
    assert reply.status == 400
    assert b"Invalid detach keys (ctrl-P) provided" in reply.body


def test_invalid_exec_detach_keys_are_refused(cli, clients) -> None:
    name = start_shell(clients)
    out = cli("exec", "--detach-keys", "a,", name, "true")
    assert out.returncode != 0
    assert "Error response from daemon: Invalid escape keys (a,) provided" in out.stderr


def test_run_with_invalid_detach_keys_cannot_attach(cli, clients) -> None:
    result = cli("run", "--detach-keys", "ctrl-", "--name", clients.name(), "busybox", "true")
    assert result.returncode == 1
    # the docker CLI reports the failed upgrade; ours, the daemon's reason for it
    expected = ("unable to upgrade to tcp, received 400" if cli.kind == "docker"
                else "Error response from daemon: Invalid detach keys (ctrl-) provided")
    assert expected in result.stderr
