"""`docker events`: what the daemon did, as dockerd tells it.

Each test does things, then reads the events of that window (`--since` before,
`--until` after), so that nothing waits on a stream that never ends. Docker's order is
kept where dockerd fixes it (a container's create, start, die, destroy); elsewhere
(a network's connect beside a container's start) the test asks only that the event is
there.
"""

from __future__ import annotations

import json
import time

import pytest


def since_now() -> str:
    return f"{time.time():.9f}"


def until_now() -> str:
    return f"{time.time() + 0.5:.9f}"


def read_events(clients, since: str, *filters: str) -> list[dict]:  # type: ignore[no-untyped-def]
    time.sleep(0.6)  # the window's end is half a second ahead: past, when asked
    args = ["events", "--since", since, "--until", until_now(), "--format", "{{json .}}"]
    for f in filters:
        args += ["--filter", f]
    result = clients.docker(*args, timeout=30)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def actions(events: list[dict]) -> list[str]:
    return [e["Action"] for e in events]


def test_a_containers_life_in_events(clients) -> None:
    since = since_now()
    name = clients.name()
    run = clients.docker("run", "--name", name, "--label", "team=blue", "busybox",
                         "sh", "-c", "exit 3")
    assert run.returncode == 3, run.stderr
    cid = clients.inspect(name)["Id"]
    assert clients.docker("rm", name).returncode == 0
    events = read_events(clients, since, f"container={name}")
    # `docker run` attaches before it starts
    assert actions(events) == ["create", "attach", "start", "die", "destroy"], actions(events)
    for e in events:
        assert e["Type"] == "container" and e["scope"] == "local"
        assert e["Actor"]["ID"] == cid
        attributes = e["Actor"]["Attributes"]
        assert attributes["name"] == name and attributes["image"] == "busybox"
        assert attributes["team"] == "blue"  # the container's labels
        # the legacy fields dockerd still writes for containers
        assert (e["status"], e["id"], e["from"]) == (e["Action"], cid, "busybox")
        assert e["timeNano"] // 1_000_000_000 == e["time"]
    die = next(e for e in events if e["Action"] == "die")
    assert die["Actor"]["Attributes"]["exitCode"] == "3"


def test_stop_kill_pause_and_exec(clients) -> None:
    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "busybox", "sleep", "60").returncode == 0
    since = since_now()
    assert clients.docker("pause", name).returncode == 0
    assert clients.docker("unpause", name).returncode == 0
    assert clients.docker("exec", name, "sh", "-c", "exit 4").returncode == 4
    assert clients.docker("kill", "-s", "USR1", name).returncode == 0
    # sleep, pid 1, ignores TERM (no handler, and init ignores what it does not
    # handle): the stop ends with SIGKILL after a second
    assert clients.docker("stop", "-t", "1", name).returncode == 0
    events = read_events(clients, since, f"container={name}")
    seen = actions(events)
    assert seen[:2] == ["pause", "unpause"], seen
    execs = [e for e in events if e["Action"].startswith("exec_")]
    assert [e["Action"] for e in execs] == [
        "exec_create: sh -c exit 4", "exec_start: sh -c exit 4", "exec_die"]
    assert len({e["Actor"]["Attributes"]["execID"] for e in execs}) == 1
    assert execs[2]["Actor"]["Attributes"]["exitCode"] == "4"
    kills = [e["Actor"]["Attributes"]["signal"] for e in events if e["Action"] == "kill"]
    assert kills == ["10", "15", "9"], kills
    assert seen[-2:] == ["die", "stop"], seen
    assert events[-2]["Actor"]["Attributes"]["exitCode"] == "137"
    # a filter on exec_start alone matches the action by its prefix, as dockerd's
    only = read_events(clients, since, f"container={name}", "event=exec_start")
    assert actions(only) == ["exec_start: sh -c exit 4"]


def test_filters_by_type_event_label_and_image(clients) -> None:
    since = since_now()
    a, b = clients.name(), clients.name()
    assert clients.docker("create", "--name", a, "--label", "pick=yes", "busybox").returncode == 0
    assert clients.docker("create", "--name", b, "busybox").returncode == 0
    by_label = read_events(clients, since, "label=pick=yes")
    assert [(e["Actor"]["Attributes"]["name"], e["Action"]) for e in by_label] == [(a, "create")]
    by_event = read_events(clients, since, "event=create", "type=container",
                           "image=busybox")
    names = [e["Actor"]["Attributes"]["name"] for e in by_event]
    assert a in names and b in names
    assert not read_events(clients, since, "type=network", f"container={a}")


def test_network_and_volume_events(clients) -> None:
    since = since_now()
    net, vol, name = clients.name(), clients.name(), clients.name()
    assert clients.docker("network", "create", net).returncode == 0
    assert clients.docker("volume", "create", vol).returncode == 0
    run = clients.docker("run", "--rm", "--name", name, "--network", net, "-v", f"{vol}:/data",
                         "busybox", "true")
    assert run.returncode == 0, run.stderr
    assert clients.docker("network", "rm", net).returncode == 0
    assert clients.docker("volume", "rm", vol).returncode == 0
    nets = read_events(clients, since, "type=network", f"network={net}")
    assert actions(nets) == ["create", "connect", "disconnect", "destroy"], actions(nets)
    net_id = nets[0]["Actor"]["ID"]
    for e in nets:
        assert e["Actor"]["ID"] == net_id
        assert e["Actor"]["Attributes"]["name"] == net
        assert e["Actor"]["Attributes"]["type"] == "bridge"
        assert "status" not in e  # no legacy fields but for containers and images
    assert nets[1]["Actor"]["Attributes"]["container"] == nets[2]["Actor"]["Attributes"][
        "container"]
    vols = read_events(clients, since, "type=volume", f"volume={vol}")
    # dockerd 20.10 says "create" again when `run -v` finds the volume made: once
    # is what matters
    seen = [a for i, a in enumerate(actions(vols)) if i == 0 or a != actions(vols)[i - 1]]
    assert seen == ["create", "mount", "unmount", "destroy"], actions(vols)
    mount = next(e for e in vols if e["Action"] == "mount")["Actor"]["Attributes"]
    assert (mount["destination"], mount["read/write"], mount["driver"]) == ("/data", "true",
                                                                          "local")


def test_image_tag_untag_and_delete(clients) -> None:
    since = since_now()
    tag = f"{clients.name()}:v1"
    image_id = clients.docker("image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip()
    assert clients.docker("tag", "busybox", tag).returncode == 0
    assert clients.docker("rmi", tag).returncode == 0
    events = read_events(clients, since, "type=image", f"image={image_id}")
    assert actions(events) == ["tag", "untag"], actions(events)
    assert events[0]["Actor"]["Attributes"]["name"] == tag
    assert all(e["Actor"]["ID"] == image_id and e["id"] == image_id for e in events)


def test_a_live_stream_with_docker_py(clients) -> None:
    """docker-py reads the stream as it comes: an event made after the request
    reaches it, and the stream ends at `until`."""
    name = clients.name()
    since = time.time()
    stream = clients.py.events(since=since, until=since + 4, decode=True,
                               filters={"container": name})
    assert clients.docker("create", "--name", name, "busybox").returncode == 0
    got = [e["Action"] for e in stream]
    assert got == ["create"]


def test_bad_windows_are_refused(clients) -> None:
    reply = clients.api("GET", "/events?since=20&until=10")
    assert reply.status == 400
    assert "cannot be after `until` time" in reply.message


@pytest.mark.ours_only(reason="our CLI")
def test_our_cli_reads_events(clients) -> None:
    since = since_now()
    name = clients.name()
    assert clients.docker("create", "--name", name, "busybox").returncode == 0
    time.sleep(0.6)
    result = clients.ours("events", "--since", since, "--until", until_now(),
                          "--filter", f"container={name}", "--format", "{{json .}}")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["Action"] for e in lines] == ["create"]


def test_oom_then_die(clients) -> None:
    since = since_now()
    name = clients.name()
    # tail keeps a "line" in memory until it sees a newline; /dev/zero has none
    run = clients.docker("run", "--name", name, "-m", "32m", "busybox", "tail", "/dev/zero",
                         timeout=60)
    assert run.returncode == 137
    seen = actions(read_events(clients, since, f"container={name}"))
    assert "oom" in seen and seen.index("oom") < seen.index("die"), seen


def test_restart(clients) -> None:
    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "busybox", "sleep", "60").returncode == 0
    since = since_now()
    assert clients.docker("restart", "-t", "0", name).returncode == 0
    seen = actions(read_events(clients, since, f"container={name}"))
    # SIGTERM, which sleep as pid 1 ignores, then at once (-t 0) SIGKILL: as dockerd
    assert seen == ["kill", "kill", "die", "stop", "start", "restart"], seen


def test_image_save_load_and_import(clients, tmp_path) -> None:
    since = since_now()
    image_id = clients.docker("image", "inspect", "-f", "{{.Id}}", "busybox").stdout.strip()
    archive = tmp_path / "busybox.tar"
    assert clients.docker("save", "-o", str(archive), "busybox").returncode == 0
    assert clients.docker("load", "-i", str(archive)).returncode == 0
    name = clients.name()
    # a rootfs of one file, imported under a name, then removed
    rootfs = tmp_path / "rootfs.tar"
    import tarfile

    with tarfile.open(rootfs, "w") as tar:
        info = tarfile.TarInfo("hello")
        tar.addfile(info)
    imported = clients.docker("import", str(rootfs), f"{name}:v1")
    assert imported.returncode == 0, imported.stderr
    new_id = imported.stdout.strip()
    assert clients.docker("rmi", f"{name}:v1").returncode == 0
    events = read_events(clients, since, "type=image")
    mine = [(e["Action"], e["Actor"]["ID"]) for e in events
            if e["Actor"]["ID"] in (image_id, new_id)]
    assert mine[:2] == [("save", image_id), ("load", image_id)], mine
    assert mine[2:] == [("tag", new_id), ("import", new_id), ("untag", new_id),
                        ("delete", new_id)], mine


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    from tests.registry import have_registry, start_registry

    if not have_registry():
        pytest.skip("docker-registry not installed")
    with start_registry() as running:
        yield running


def test_push_and_pull(clients, registry) -> None:
    name = f"{registry.host}/wb/{clients.name()}:v1"
    assert clients.docker("tag", "busybox", name).returncode == 0
    try:
        since = since_now()
        assert clients.docker("push", name).returncode == 0
        assert clients.docker("rmi", name).returncode == 0
        assert clients.docker("pull", name).returncode == 0
        repository = name.rsplit(":", 1)[0]
        events = read_events(clients, since, "type=image", f"image={repository}")
        pushed_pulled = [(e["Action"], e["Actor"]["ID"], e["Actor"]["Attributes"]["name"])
                         for e in events if e["Action"] in ("push", "pull")]
        assert pushed_pulled == [("push", name, repository), ("pull", name, repository)]
    finally:
        clients.api("DELETE", f"/images/{name}?force=1")


def test_a_reader_that_goes_away_is_forgotten(clients) -> None:
    """`docker events` with no end, then Ctrl-C: the daemon lets go of its subscriber
    (/info's NEventsListener counts them), even though no event came meanwhile."""
    import signal
    import subprocess

    from tests.behaviour.clients import wait_until

    def listeners() -> int:
        return int(clients.api("GET", "/info").json()["NEventsListener"])

    before = listeners()
    reader = subprocess.Popen([*clients.docker_command(), "events", "--filter",
                               f"container={clients.name()}"], env=clients.cli_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: listeners() == before + 1, 10, "the reader to subscribe")
        reader.send_signal(signal.SIGINT)
        reader.wait(10)
        wait_until(lambda: listeners() == before, 10, "the reader to be forgotten")
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()


def test_prunes_are_told(clients) -> None:
    since = since_now()
    for kind in ("image", "network", "volume"):
        assert clients.docker(kind, "prune", "-f").returncode == 0
    events = read_events(clients, since, "event=prune")
    assert sorted(e["Type"] for e in events) == ["image", "network", "volume"]
    for e in events:
        assert e["Actor"]["ID"] == "" and "reclaimed" in e["Actor"]["Attributes"]
        assert "id" not in e
