"""daemon.json (`--config-file`) on every stage: what each key does, seen as a user
sees it (`ulimit` inside a container, `docker inspect`, `docker info`), SIGHUP's
reload, and a daemon that will not start over a key it does not know."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.engines import DOCKER_CLI, ENGINES, REPO, Engine, repo_env, start_engine
from tests.registry import have_registry, start_registry

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")
STAGES = [s for s in ("stage1", "stage2", "stage3", "stage4")
          if s in ENGINES and s in (os.environ.get("WB_ENGINES") or "stage2").split(",")]
MODULES = {"stage1": "stages.stage1_lxc", "stage2": "stages.stage2_libcontainer",
           "stage3": "stages.stage3_containerd", "stage4": "stages.stage4_shim"}


def docker(engine: Engine, *args: str) -> str:
    result = subprocess.run([DOCKER_CLI, "-H", engine.host, *args], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, (args, result.stderr, engine.log_tail())
    return result.stdout


def poll(predicate: Callable[[], object], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("stage", STAGES)
def test_an_unknown_key_stops_the_daemon_at_start(stage: str, tmp_path: Path) -> None:
    config = tmp_path / "daemon.json"
    config.write_text('{"debug": true, "live-restor": true}')
    result = subprocess.run(
        [sys.executable, "-m", MODULES[stage], "--config-file", str(config),
         "--root", str(tmp_path / "root"), "--exec-root", str(tmp_path / "exec"),
         "--host", f"unix://{tmp_path}/sock"],
        capture_output=True, text=True, timeout=60, env=repo_env(), cwd=REPO)
    assert result.returncode != 0
    assert (f"unable to configure the Docker daemon with file {config}: the following "
            "directives don't match any configuration option: live-restor") in result.stderr
    assert not (tmp_path / "root").exists()  # refused before anything was made


@pytest.mark.parametrize("stage", STAGES)
def test_daemon_json_settings_apply_and_sighup_reloads(stage: str, tmp_path: Path) -> None:
    config = tmp_path / "daemon.json"
    config.write_text(json.dumps({
        "labels": ["room=b"],
        "log-opts": {"max-size": "1m", "max-file": "2"},
        "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 1234, "Hard": 2345}},
    }))
    with start_engine(stage, ("--config-file", str(config))) as engine:
        # default-ulimits: for a container that sets none, and not over its own.
        assert docker(engine, "run", "--rm", "busybox", "sh", "-c",
                      "ulimit -n; ulimit -Hn").split() == ["1234", "2345"]
        assert docker(engine, "run", "--rm", "--ulimit", "nofile=100:200", "busybox",
                      "sh", "-c", "ulimit -n; ulimit -Hn").split() == ["100", "200"]
        # log-opts: the default LogConfig, under a container's own.
        cid = docker(engine, "create", "--log-opt", "max-size=5m", "busybox",
                     "true").strip()
        log_config = json.loads(docker(engine, "inspect", "-f",
                                       "{{json .HostConfig.LogConfig}}", cid))
        assert log_config == {"Type": "json-file",
                              "Config": {"max-size": "5m", "max-file": "2"}}
        docker(engine, "rm", cid)
        info = json.loads(docker(engine, "info", "-f", "{{json .}}"))
        assert (info["Labels"], info["Debug"]) == (["room=b"], False)

        config.write_text(json.dumps({"labels": ["room=c"], "debug": True}))
        os.kill(engine.pid, signal.SIGHUP)  # the daemon this test started
        poll(lambda: json.loads(docker(engine, "info", "-f", "{{json .}}"))["Labels"]
             == ["room=c"], "labels reloaded")
        assert json.loads(docker(engine, "info", "-f", "{{json .Debug}}")) is True

        config.write_text('{"nonsense": 1}')  # a bad file on reload: settings kept
        os.kill(engine.pid, signal.SIGHUP)
        poll(lambda: "settings kept" in engine.log_tail(), "the reload's error logged")
        assert json.loads(docker(engine, "info", "-f", "{{json .Labels}}")) == ["room=c"]


@pytest.mark.skipif(not have_registry(), reason="docker-registry not installed")
@pytest.mark.parametrize("stage", STAGES[:1])
def test_registry_mirrors_serve_docker_io_pulls(stage: str, tmp_path: Path) -> None:
    """A room without internet: busybox pushed to a local registry as
    library/busybox, and `docker pull busybox:TAG` served by it as docker.io's mirror
    (the tag exists nowhere else, so only the mirror can have answered)."""
    with start_registry() as registry:
        config = tmp_path / "daemon.json"
        config.write_text(json.dumps({"registry-mirrors": [registry.url]}))
        with start_engine(stage, ("--config-file", str(config))) as engine:
            tag = f"mirror-{os.getpid()}"
            local = f"{registry.host}/library/busybox:{tag}"
            docker(engine, "tag", "busybox", local)
            docker(engine, "push", local)
            docker(engine, "rmi", local)
            docker(engine, "pull", f"busybox:{tag}")
            assert docker(engine, "run", "--rm", f"busybox:{tag}", "echo", "mirrored") \
                == "mirrored\n"
            info = json.loads(docker(engine, "info", "-f", "{{json .RegistryConfig}}"))
            assert info["Mirrors"] == [registry.url + "/"]
            assert f" {registry.url}/" in docker(engine, "info")  # "Registry Mirrors:"
            docker(engine, "rmi", f"busybox:{tag}")


@pytest.mark.parametrize("stage", STAGES)
def test_live_restore_from_the_file_and_by_sighup(stage: str, tmp_path: Path) -> None:
    """From stage 3 on, live-restore in daemon.json is the flag's equal, and SIGHUP
    turns it on or off; stages 1-2 cannot keep containers without the daemon (their
    parent is the daemon) and refuse it at start."""
    config = tmp_path / "daemon.json"
    config.write_text('{"live-restore": true}')
    if stage in ("stage1", "stage2"):
        result = subprocess.run(
            [sys.executable, "-m", MODULES[stage], "--config-file", str(config),
             "--root", str(tmp_path / "root"), "--exec-root", str(tmp_path / "exec"),
             "--host", f"unix://{tmp_path}/sock", "--bridge", "none"],
            capture_output=True, text=True, timeout=60, env=repo_env(), cwd=REPO)
        assert result.returncode != 0
        assert "live-restore: the" in result.stderr
        assert "cannot outlive the daemon" in result.stderr
        return
    with start_engine(stage, ("--config-file", str(config))) as engine:
        assert json.loads(docker(engine, "info", "-f", "{{json .LiveRestoreEnabled}}"))
        config.write_text('{"live-restore": false}')
        os.kill(engine.pid, signal.SIGHUP)
        poll(lambda: not json.loads(docker(engine, "info", "-f",
                                           "{{json .LiveRestoreEnabled}}")),
             "live restore off")
