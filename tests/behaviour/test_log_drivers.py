"""`--log-driver json-file|local|none` and their `--log-opt`s, as dockerd keeps logs.

local keeps a bounded log the daemon reads back like json-file's (its file format is
the daemon's own business); none keeps nothing, so `docker logs` has nothing to read;
the drivers that send logs elsewhere are refused here (dockerd accepts them, and fails
at start when their destination is missing, as on the reference: no syslog socket).
"""

from __future__ import annotations

import time

import pytest


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_none_keeps_no_log_and_logs_says_so(cli, clients) -> None:
    name = clients.name()
    # attached output still reaches the user: only the log is not kept
    assert ok(cli("run", "--log-driver", "none", "--name", name, "busybox",
                  "echo", "hi")) == "hi\n"
    logs = cli("logs", name)
    assert logs.returncode == 1
    assert "Error response from daemon: configured logging driver does not support " \
           "reading" in logs.stderr
    reply = clients.api("GET", f"/containers/{name}/logs?stdout=1")
    assert (reply.status, reply.message) == (
        501, "configured logging driver does not support reading")
    assert clients.inspect(name)["HostConfig"]["LogConfig"] == {"Type": "none", "Config": {}}


def test_docker_py_reads_no_log_of_none(clients) -> None:
    import docker
    from docker.types import LogConfig

    container = clients.py.containers.create("busybox", "true", name=clients.name(),
                                             log_config=LogConfig(type="none"))
    with pytest.raises(docker.errors.APIError) as raised:
        container.logs()
    assert raised.value.status_code == 501


def test_local_is_read_back_like_json_file(cli, clients) -> None:
    name = clients.name()
    ok(cli("run", "-d", "--log-driver", "local", "--name", name, "busybox", "sh", "-c",
           "echo two >&2; sleep 0.3; echo one; echo three; while [ ! -e /go ]; do "
           "sleep 0.1; done; echo four; sleep 60"))
    clients.wait_until(lambda: "three" in ok(cli("logs", name)), what="three")
    logs = cli("logs", name)
    assert (logs.stdout, logs.stderr) == ("one\nthree\n", "two\n")
    assert ok(cli("logs", "--tail", "1", name)) == "three\n"
    stamped = ok(cli("logs", "-t", name)).splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "three"]
    assert all(line[:4].isdigit() and line.split(" ")[0].endswith("Z") for line in stamped)
    time.sleep(1.1)
    middle = time.time()
    time.sleep(1.1)
    ok(cli("exec", name, "touch", "/go"))
    clients.wait_until(lambda: "four" in ok(cli("logs", name)), what="four")
    # (the docker CLI: ours has no --since/--until yet)
    since = clients.docker("logs", "--since", f"{middle:.9f}", name)
    assert ok(since) == "four\n"
    assert ok(clients.docker("logs", "--until", f"{middle:.9f}", name)) == "one\nthree\n"
    info = clients.inspect(name)
    assert info["HostConfig"]["LogConfig"] == {"Type": "local", "Config": {}}
    assert info["LogPath"] == ""  # dockerd keeps the local driver's file to itself


def test_local_follow_ends_with_the_container(cli, clients) -> None:
    name = clients.name()
    ok(cli("run", "-d", "--log-driver", "local", "--name", name, "busybox", "sh", "-c",
           "for i in 1 2 3; do echo $i; sleep 0.3; done"))
    assert ok(cli("logs", "-f", name, timeout=30)) == "1\n2\n3\n"


@pytest.mark.parametrize("driver", ["json-file", "local"])
def test_rotation_keeps_the_newest_lines(cli, clients, driver: str) -> None:
    name = clients.name()
    opts = ["--log-opt", "max-size=2k", "--log-opt", "max-file=3"]
    if driver == "json-file":
        opts += ["--log-opt", "compress=true"]
    ok(cli("run", "--log-driver", driver, *opts, "--name", name, "busybox", "sh", "-c",
           "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done"))
    kept = ok(cli("logs", name)).split()
    assert 30 < len(kept) < 1000  # some of it, bounded by three files of about 2k
    first = int(kept[0].removeprefix("line-"))
    assert kept == [f"line-{i}" for i in range(first, 2000)]  # the newest, in order
    assert ok(cli("logs", "--tail", "2", name)).split() == ["line-1998", "line-1999"]


@pytest.mark.parametrize(("args", "words"), [
    (["--log-driver", "none", "--log-opt", "max-size=1k"],
     "invalid logging opts for driver none"),  # the CLI's own check
    (["--log-driver", "local", "--log-opt", "colour=blue"],
     "unknown log opt 'colour' for log driver local"),
    (["--log-driver", "local", "--log-opt", "max-size=lots"],
     "invalid value for max-size: lots: invalid size: 'lots'"),
    (["--log-driver", "local", "--log-opt", "max-file=1"],
     "compression cannot be enabled when max file count is 1"),
    (["--log-driver", "bogus"], "bogus"),
])
def test_refused_options_and_drivers(cli, args: list[str], words: str) -> None:
    result = cli("run", "--rm", *args, "busybox", "true")
    assert result.returncode == 125
    assert words in result.stderr


def test_drivers_that_ship_logs_elsewhere_do_not_run(cli) -> None:
    # Refused at create here; dockerd's syslog driver fails at start without a syslog
    # socket (the reference has none): either way the container never runs.
    result = cli("run", "--rm", "--log-driver", "syslog", "busybox", "echo", "ran")
    assert result.returncode == 125
    assert "ran" not in result.stdout
    assert "Error response from daemon" in result.stderr and "log" in result.stderr
