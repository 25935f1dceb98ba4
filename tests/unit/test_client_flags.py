"""Docker-style flag parsing and value conversions of our CLI (no daemon involved)."""

from __future__ import annotations

import pytest

from shared.client.commands import exec as exec_command
from shared.client.commands import ps, rm, run
from shared.client.containerconfig import build, with_latest
from shared.client.session import start_error_status
from shared.flags import UsageError, nano_cpus, ram_in_bytes


def test_flags_stop_at_the_image() -> None:
    options, args = run.COMMAND.parse(["-it", "--rm", "busybox", "ls", "-l", "--rm"])
    assert options["interactive"] and options["tty"] and options["rm"]
    assert args == ["busybox", "ls", "-l", "--rm"]


def test_values_attached_or_following() -> None:
    options, _ = run.COMMAND.parse(
        ["-e", "A=1", "-eB=2", "--env=C=3", "--env", "D=4", "--name=web", "-w/tmp", "busybox"])
    assert options["env"] == ["A=1", "B=2", "C=3", "D=4"]
    assert options["name"] == "web" and options["workdir"] == "/tmp"


def test_short_flags_cluster_with_a_value_last() -> None:
    options, args = run.COMMAND.parse(["-ite", "X=1", "busybox"])
    assert options["interactive"] and options["tty"] and options["env"] == ["X=1"]
    assert args == ["busybox"]


def test_h_is_hostname_for_run_but_help_elsewhere() -> None:
    options, _ = run.COMMAND.parse(["-h", "box", "busybox"])
    assert options["hostname"] == "box"
    assert ps.COMMAND.parse(["-h"]) == ({"help": True}, [])
    assert run.COMMAND.parse(["--help"]) == ({"help": True}, [])


def test_interspersed_flags_for_other_verbs() -> None:
    options, args = rm.COMMAND.parse(["a", "-f", "b"])
    assert options["force"] and args == ["a", "b"]


def test_double_dash_ends_flags() -> None:
    options, args = rm.COMMAND.parse(["--", "-f"])
    assert not options["force"] and args == ["-f"]


def test_boolean_values() -> None:
    assert run.COMMAND.parse(["--rm=false", "x"])[0]["rm"] is False
    assert run.COMMAND.parse(["-d=true", "x"])[0]["detach"] is True
    with pytest.raises(UsageError, match="ParseBool"):
        run.COMMAND.parse(["--rm=maybe", "x"])


@pytest.mark.parametrize("args, message", [
    (["--nope", "x"], "unknown flag: --nope"),
    (["-z", "x"], "unknown shorthand flag: 'z' in -z"),
    (["--name"], "flag needs an argument: --name"),
    (["-m", "10x", "x"], 'invalid argument "10x" for "-m, --memory" flag: invalid suffix: \'x\''),
])
def test_usage_errors(args: list[str], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        run.COMMAND.parse(args)
    assert str(raised.value) == message


def test_exec_takes_its_command_verbatim() -> None:
    options, args = exec_command.COMMAND.parse(["-it", "web", "sh", "-c", "ls -l"])
    assert options["tty"] and args == ["web", "sh", "-c", "ls -l"]


@pytest.mark.parametrize("text, size", [
    ("100", 100), ("1k", 1024), ("512m", 512 << 20), ("1g", 1 << 30), ("1GB", 1 << 30),
    ("1.5g", 3 << 29), ("64M", 64 << 20),
])
def test_ram_in_bytes(text: str, size: int) -> None:
    assert ram_in_bytes(text) == size


def test_cpus() -> None:
    assert nano_cpus("1.5") == 1_500_000_000
    assert nano_cpus("0.01") == 10_000_000


def test_create_body() -> None:
    options, args = run.COMMAND.parse(["-i", "--rm", "-m", "1g", "--cpus", "2", "--pids-limit",
                                       "10", "--entrypoint", "", "-u", "1:2", "busybox", "echo"])
    body = build(options, args[0], args[1:], attach=True)
    assert body["Image"] == "busybox" and body["Cmd"] == ["echo"]
    assert body["Entrypoint"] == [""]  # an empty entrypoint resets the image's, as docker
    assert body["OpenStdin"] and body["AttachStdin"] and body["StdinOnce"]
    assert body["User"] == "1:2"
    # No -p: docker's CLI still sends an empty PortBindings and PublishAllPorts false.
    assert body["HostConfig"] == {"AutoRemove": True, "NetworkMode": "default",
                                  "Memory": 1 << 30, "NanoCpus": 2_000_000_000, "PidsLimit": 10,
                                  "PortBindings": {}, "PublishAllPorts": False}
    detached = build(options, "busybox", [], attach=False)
    assert detached["Cmd"] is None and not detached["AttachStdout"] and detached["OpenStdin"]


def test_env_from_our_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WB_FROM_HOST", "yes")
    monkeypatch.delenv("WB_NOT_SET", raising=False)
    options, _ = run.COMMAND.parse(["-e", "WB_FROM_HOST", "-e", "WB_NOT_SET", "x"])
    assert build(options, "x", [], attach=True)["Env"] == ["WB_FROM_HOST=yes", "WB_NOT_SET"]


def test_image_names_get_latest() -> None:
    assert with_latest("busybox") == "busybox:latest"
    assert with_latest("localhost:5000/x") == "localhost:5000/x:latest"
    assert with_latest("busybox:1.36") == "busybox:1.36"
    assert with_latest("busybox@sha256:abc") == "busybox@sha256:abc"


@pytest.mark.parametrize("message, status", [
    ('exec: "nope": executable file not found in $PATH', 127),
    ("exec /x: no such file or directory", 127),
    ('exec: "/etc": permission denied', 126),
    ("Cannot start container: cgroup busy", 125),
])
def test_start_error_status(message: str, status: int) -> None:
    assert start_error_status(message) == status


def test_confinement_flags_become_host_config_as_dockers_cli_sends_them() -> None:
    options, args = run.COMMAND.parse([
        "--cap-add", "sys_admin", "--cap-drop", "ALL", "--privileged", "--read-only",
        "--ulimit", "nofile=100:200", "--ulimit", "core=-1", "--group-add", "wheel",
        "--group-add", "1234", "--sysctl", "net.ipv4.ip_forward=1", "--oom-kill-disable",
        "--oom-score-adj", "-5", "--security-opt", "systempaths=unconfined",
        "--security-opt", "no-new-privileges", "busybox"])
    hc = build(options, args[0], [], attach=False)["HostConfig"]
    assert hc["CapAdd"] == ["sys_admin"] and hc["CapDrop"] == ["ALL"]
    assert hc["Privileged"] and hc["ReadonlyRootfs"] and hc["OomKillDisable"]
    assert hc["Ulimits"] == [{"Name": "nofile", "Soft": 100, "Hard": 200},
                             {"Name": "core", "Soft": -1, "Hard": -1}]
    assert hc["GroupAdd"] == ["wheel", "1234"]
    assert hc["Sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert hc["OomScoreAdj"] == -5
    # systempaths=unconfined is not an option the daemon knows: empty path lists
    assert (hc["MaskedPaths"], hc["ReadonlyPaths"]) == ([], [])
    assert hc["SecurityOpt"] == ["no-new-privileges"]


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--ulimit", "nofile=300:200",
     "ulimit soft limit must be less than or equal to hard limit: 300 > 200"),
    ("--ulimit", "nofile=-1:200", "soft: -1 (unlimited), hard: 200"),
    ("--ulimit", "as=1", "invalid ulimit type: as"),
    ("--ulimit", "nofile", "invalid ulimit argument: nofile"),
    ("--sysctl", "kernel.panic=1", "sysctl 'kernel.panic=1' is not allowed"),
    ("--sysctl", "net.ipv4.ip_forward", "sysctl 'net.ipv4.ip_forward' is not allowed"),
])
def test_confinement_flag_values_docker_refuses(flag: str, value: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        run.COMMAND.parse([flag, value, "busybox"])
    assert message in str(e.value)
    assert f'invalid argument "{value}" for "{flag}" flag' in str(e.value)
