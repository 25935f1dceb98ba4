"""Health checks: the daemon runs a probe in the container and keeps State.Health.

Each test waits for what a user would wait for (the status in `docker inspect`, the
column of `docker ps`) by polling with a deadline; intervals are short (a few hundred
ms) so that a few probes happen within a second or two. Every test runs on every
stage and on the reference dockerd.
"""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import time

import pytest

MS = 1_000_000  # the API's durations are nanoseconds
DEADLINE = 30.0  # s: probes are exec's, slow under a loaded machine


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


def health(clients, name: str) -> dict | None:  # type: ignore[no-untyped-def]
    return clients.inspect(name)["State"].get("Health")


def wait_health(clients, name: str, status: str, what: str = "") -> dict:  # type: ignore[no-untyped-def]
    return clients.wait_until(
        lambda: (h := health(clients, name)) is not None and h["Status"] == status and h,
        timeout=DEADLINE, what=what or f"{name} {status}")


def ps_names(clients, *filters: str) -> list[str]:  # type: ignore[no-untyped-def]
    args = ["ps", "-a", "--format", "{{.Names}}"]
    for f in filters:
        args += ["--filter", f]
    return ok(clients.docker(*args)).split()


def ps_status(clients, name: str) -> str:  # type: ignore[no-untyped-def]
    return ok(clients.docker("ps", "--filter", f"name=^{name}$", "--format", "{{.Status}}")).strip()


def test_a_passing_probe_makes_it_healthy(cli, clients) -> None:
    name, waiting = clients.name(), clients.name()
    ok(cli("run", "-d", "--name", name, "--health-cmd", "echo ok; exit 0",
           "--health-interval", "300ms", "busybox", "sleep", "60"))
    # a first probe only after the interval: an hour, so still starting
    ok(cli("run", "-d", "--name", waiting, "--health-cmd", "true", "--health-interval", "1h",
           "busybox", "sleep", "60"))
    config = clients.inspect(name)["Config"]["Healthcheck"]
    assert config == {"Test": ["CMD-SHELL", "echo ok; exit 0"], "Interval": 300 * MS}
    h = wait_health(clients, name, "healthy")
    assert h["FailingStreak"] == 0
    first = h["Log"][0]
    assert set(first) == {"Start", "End", "ExitCode", "Output"}
    assert (first["ExitCode"], first["Output"]) == (0, "ok\n")
    assert first["Start"] <= first["End"]  # RFC 3339 in UTC: compared as text
    assert health(clients, waiting) == {"Status": "starting", "FailingStreak": 0, "Log": []}
    assert ps_status(clients, name).endswith(" (healthy)"), ps_status(clients, name)
    assert ps_status(clients, waiting).endswith(" (health: starting)")
    assert name in ps_names(clients, "health=healthy")
    assert name not in ps_names(clients, "health=none")
    assert ps_names(clients, f"name=^{waiting}$", "health=starting") == [waiting]


def test_failing_probes_make_it_unhealthy_after_the_retries(clients) -> None:
    name = clients.name()
    since = f"{time.time():.9f}"
    ok(clients.docker("run", "-d", "--name", name, "--health-cmd", "echo bad >&2; exit 1",
                      "--health-interval", "200ms", "--health-retries", "2",
                      "busybox", "sleep", "60"))
    wait_health(clients, name, "unhealthy")
    # the streak goes on; the Log keeps the last five results
    h = clients.wait_until(lambda: (h := health(clients, name)) and h["FailingStreak"] >= 6
                           and h, timeout=DEADLINE, what="six failures")
    assert h["Status"] == "unhealthy" and len(h["Log"]) == 5
    assert {(r["ExitCode"], r["Output"]) for r in h["Log"]} == {(1, "bad\n")}
    assert ps_status(clients, name).endswith(" (unhealthy)")
    assert ps_names(clients, f"name=^{name}$", "health=unhealthy") == [name]
    assert ps_names(clients, f"name=^{name}$", "health=healthy") == []
    until = f"{time.time() + 0.5:.9f}"
    time.sleep(0.6)  # the window's end is half a second ahead: past, when asked
    events = [json.loads(line) for line in ok(clients.docker(
        "events", "--since", since, "--until", until, "--filter", f"container={name}",
        "--format", "{{json .}}", timeout=30)).splitlines()]
    seen = [e["Action"] for e in events]
    assert seen.count("health_status: unhealthy") == 1, seen
    assert "health_status: healthy" not in seen
    # each probe is an exec, and dockerd tells of it
    assert "exec_create: /bin/sh -c echo bad >&2; exit 1" in seen, seen
    assert "exec_start: /bin/sh -c echo bad >&2; exit 1" in seen
    dies = [e for e in events if e["Action"] == "exec_die"]
    assert dies and dies[0]["Actor"]["Attributes"]["exitCode"] == "1"
    # a probe's exec is not the container's to list once it is done (one may run now)
    assert len(clients.inspect(name)["ExecIDs"] or []) <= 1


def test_a_probe_past_its_timeout_is_killed_and_fails(clients) -> None:
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "--health-cmd", "sleep 30",
                      "--health-timeout", "300ms", "--health-interval", "200ms",
                      "--health-retries", "1", "busybox", "sleep", "60"))
    h = wait_health(clients, name, "unhealthy")
    assert (h["Log"][0]["ExitCode"], h["Log"][0]["Output"]) == (
        -1, "Health check exceeded timeout (300ms)")
    # each probe was killed: after three, at most the one running now is left
    clients.wait_until(lambda: len(health(clients, name)["Log"]) >= 3, timeout=DEADLINE,
                       what="three probes")
    top = ok(clients.docker("top", name))
    assert top.count("sleep 30") <= 1, top


def test_failures_in_the_start_period_do_not_count(clients) -> None:
    name = clients.name()
    # probes every 200 ms, within an hour's start period: every failure falls in it
    ok(clients.docker("run", "-d", "--name", name, "--health-cmd", "exit 1",
                      "--health-interval", "200ms", "--health-start-period", "1h",
                      "--health-retries", "1", "busybox", "sleep", "60"))
    h = clients.wait_until(lambda: (h := health(clients, name)) and len(h["Log"]) >= 3 and h,
                           timeout=DEADLINE, what="three probes")
    assert (h["Status"], h["FailingStreak"]) == ("starting", 0)
    assert {r["ExitCode"] for r in h["Log"]} == {1}


def test_the_start_interval_paces_probes_in_the_start_period(clients) -> None:
    """--health-start-interval (API 1.44): while starting, probes come at its pace, not
    the Interval's (an hour here)."""
    server_api = ok(clients.docker("version", "--format", "{{.Server.APIVersion}}")).strip()
    if tuple(map(int, server_api.split("."))) < (1, 44):
        pytest.skip(f"the daemon speaks API {server_api}; StartInterval came with 1.44")
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "--health-cmd", "exit 1",
                      "--health-interval", "1h", "--health-start-period", "1h",
                      "--health-start-interval", "200ms", "busybox", "sleep", "60"))
    assert clients.inspect(name)["Config"]["Healthcheck"]["StartInterval"] == 200 * MS
    h = clients.wait_until(lambda: (h := health(clients, name)) and len(h["Log"]) >= 3 and h,
                           timeout=DEADLINE, what="three probes")
    assert (h["Status"], h["FailingStreak"]) == ("starting", 0)


def test_docker_py_cmd_probe_and_its_output_cut_at_4096_bytes(clients) -> None:
    name = clients.name()
    clients.py.containers.run(
        "busybox", ["sleep", "60"], name=name, detach=True,
        healthcheck={"test": ["CMD", "sh", "-c", "head -c 5000 /dev/zero | tr '\\0' a"],
                     "interval": 200 * MS, "retries": 1})
    h = wait_health(clients, name, "healthy")
    assert h["Log"][0]["Output"] == "a" * 4096 + "..."
    container = clients.py.containers.get(name)
    assert container.attrs["State"]["Health"]["Status"] == "healthy"


def test_pause_and_stop_end_the_checks_and_start_begins_them_again(clients) -> None:
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "--health-cmd", "true",
                      "--health-interval", "200ms", "busybox", "sleep", "60"))
    wait_health(clients, name, "healthy")
    # no probe runs in a frozen container: dockerd stops the checks, and says so
    ok(clients.docker("pause", name))
    assert health(clients, name)["Status"] == "unhealthy"
    ok(clients.docker("unpause", name))
    before = len(wait_health(clients, name, "healthy")["Log"])
    ok(clients.docker("stop", "-t", "0", name))
    # dockerd: a check that no longer runs reads unhealthy; the Log is kept
    h = health(clients, name)
    assert h is not None and h["Status"] == "unhealthy"
    assert ps_names(clients, f"name=^{name}$", "health=unhealthy") == [name]
    ok(clients.docker("start", name))
    h = wait_health(clients, name, "healthy")
    assert len(h["Log"]) > min(before, 4)


def test_bad_healthchecks_are_refused_with_dockerds_words(cli, clients) -> None:
    before = clients.container_ids()
    less = "in Healthcheck cannot be less than 1ms"
    for field, value, message in (
        ("Interval", 100, f"Interval {less}"), ("Timeout", 5, f"Timeout {less}"),
        ("Retries", -1, "Retries in Healthcheck cannot be negative"),
        ("StartPeriod", 1, f"StartPeriod {less}"),
    ):
        hc = {"Test": ["CMD", "true"], field: value}
        reply = clients.api("POST", "/containers/create",
                            {"Image": "busybox", "Cmd": ["true"], "Healthcheck": hc})
        assert reply.status == 400, reply.body
        assert reply.message == message
    result = cli("create", "--no-healthcheck", "--health-cmd", "true", "busybox")
    assert result.returncode == 125
    assert "--no-healthcheck conflicts with --health-* options" in result.stderr
    result = cli("create", "--health-retries", "-1", "busybox")
    assert result.returncode == 125
    assert "--health-retries cannot be negative" in result.stderr
    assert clients.container_ids() == before  # nothing half-made


# ---------------------------------------------------------- an image's HEALTHCHECK


@contextlib.contextmanager
def image_with_healthcheck(clients, healthcheck: dict):  # type: ignore[no-untyped-def]
    """busybox with a HEALTHCHECK in its config, made as `docker save` + an edited
    config + `docker load` (a docker-archive tar: manifest.json, config, layers)."""
    saved = io.BytesIO(b"".join(clients.py.images.get("busybox").save(named=False)))
    tag = f"wb-health-{clients.name()}:latest"
    out = io.BytesIO()
    with tarfile.open(fileobj=saved) as src, tarfile.open(fileobj=out, mode="w") as dst:
        manifest = json.load(src.extractfile("manifest.json"))  # type: ignore[arg-type]
        entry = manifest[0]
        config = json.load(src.extractfile(entry["Config"]))  # type: ignore[arg-type]
        config.setdefault("config", {})["Healthcheck"] = healthcheck
        files = {"config.json": json.dumps(config).encode(),
                 "manifest.json": json.dumps([{"Config": "config.json", "RepoTags": [tag],
                                               "Layers": entry["Layers"]}]).encode()}
        for layer in entry["Layers"]:
            files[layer] = src.extractfile(layer).read()  # type: ignore[union-attr]
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    clients.py.images.load(out.getvalue())
    try:
        yield tag
    finally:
        clients.docker("rmi", "-f", tag)


def test_the_images_healthcheck_merged_and_no_healthcheck_turns_it_off(clients) -> None:
    image_check = {"Test": ["CMD-SHELL", "echo from-image"], "Interval": 200 * MS,
                   "Retries": 4}
    with image_with_healthcheck(clients, image_check) as image:
        plain, tuned, off = clients.name(), clients.name(), clients.name()
        ok(clients.docker("run", "-d", "--name", plain, image, "sleep", "60"))
        # a field given at run replaces the image's, the rest stay the image's
        ok(clients.docker("run", "-d", "--name", tuned, "--health-timeout", "5s",
                          image, "sleep", "60"))
        ok(clients.docker("run", "-d", "--name", off, "--no-healthcheck", image,
                          "sleep", "60"))
        assert clients.inspect(plain)["Config"]["Healthcheck"] == image_check
        assert clients.inspect(tuned)["Config"]["Healthcheck"] == {**image_check,
                                                                   "Timeout": 5000 * MS}
        assert clients.inspect(off)["Config"]["Healthcheck"]["Test"] == ["NONE"]
        assert wait_health(clients, plain, "healthy")["Log"][0]["Output"] == "from-image\n"
        wait_health(clients, tuned, "healthy")
        assert health(clients, off) is None
        assert ps_names(clients, f"name=^{off}$", "health=none") == [off]
        assert not ps_status(clients, off).endswith(")")
        for name in (plain, tuned, off):
            ok(clients.docker("rm", "-f", name))


@pytest.mark.ours_only(reason="restarts the daemon under test")
def test_checks_after_a_daemon_restart(clients) -> None:
    """A container that outlives the daemon (live restore) is checked again from
    "starting"; one that did not is stopped, and its health reads unhealthy."""
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "--health-cmd", "true",
                      "--health-interval", "200ms", "busybox", "sleep", "120"))
    wait_health(clients, name, "healthy")
    clients.engine.kill_daemon()
    clients.engine.restart_daemon()
    if clients.inspect(name)["State"]["Running"]:
        wait_health(clients, name, "healthy")
    else:
        assert health(clients, name)["Status"] == "unhealthy"
