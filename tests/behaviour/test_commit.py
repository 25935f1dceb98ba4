"""`docker commit`: a container's changes made into an image, checked by what a
container of the new image sees, by `docker history`, by the image's config, and by
skopeo reading the image as `docker save` writes it."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.behaviour.clients import Clients, wait_until

SKOPEO = shutil.which("skopeo")


@pytest.fixture
def image_name(clients: Clients) -> Iterator[str]:
    """A repository name for the test's image, removed after it."""
    name = clients.name() + "-img"
    yield name
    clients.docker("rmi", "-f", name)


def _run(clients: Clients, image: str, script: str) -> str:
    out = clients.docker("run", "--rm", image, "sh", "-c", script)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_commit_takes_files_written_deleted_and_replaced(cli, clients, image_name: str) -> None:
    name = clients.name()
    script = ("echo hello > /new && rm /bin/ls && rm -r /usr/sbin && mkdir /usr/sbin "
              "&& echo x > /usr/sbin/only && mkdir -p /d/sub && echo deep > /d/sub/f")
    assert clients.docker("run", "--name", name, "busybox", "sh", "-c", script).returncode == 0
    out = cli("commit", name, image_name)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("sha256:")
    seen = _run(clients, image_name, "cat /new /d/sub/f; ls /usr/sbin; "
                "test -e /bin/ls || echo no-ls; test -e /bin/cat && echo cat-kept")
    assert seen.split() == ["hello", "deep", "only", "no-ls", "cat-kept"]
    # The layer holds the changes only: the runtime's mount points are not in it.
    layers = clients.api("GET", f"/images/{image_name}/json").json()["RootFS"]["Layers"]
    base = clients.api("GET", "/images/busybox/json").json()["RootFS"]["Layers"]
    assert layers[:-1] == base and len(layers) == len(base) + 1
    assert _run(clients, image_name, "cat /etc/hostname") != _run(
        clients, image_name, "cat /etc/hostname")  # each container's own, none baked in


def test_commit_changes_history_author_and_comment(cli, clients, image_name: str) -> None:
    name = clients.name()
    assert clients.docker("run", "--name", name, "busybox", "sh", "-c",
                          "echo hi > /greeting").returncode == 0
    out = cli("commit", "-a", "Ada <ada@example.org>", "-m", "the greeting",
                         "--change", 'CMD ["cat", "/greeting"]', "--change", "ENV A=1 B=two",
                         "--change", "WORKDIR /tmp", "--change", "LABEL role=test",
                         "--change", "EXPOSE 8080", "--change", "ENV C=$A-x", name, image_name)
    assert out.returncode == 0, out.stderr
    run = clients.docker("run", "--rm", image_name)
    assert run.returncode == 0 and run.stdout == "hi\n", run.stderr
    assert _run(clients, image_name, "echo $A $B $C; pwd").split() == ["1", "two", "1-x",
                                                                       "/tmp"]
    inspect = clients.api("GET", f"/images/{image_name}/json").json()
    assert inspect["Author"] == "Ada <ada@example.org>" and inspect["Comment"] == "the greeting"
    config = inspect["Config"]
    assert config["Cmd"] == ["cat", "/greeting"] and config["WorkingDir"] == "/tmp"
    assert config["Labels"] == {"role": "test"} and "8080/tcp" in config["ExposedPorts"]
    history = clients.docker("history", "--no-trunc", "--format",
                             "{{.CreatedBy}}|{{.Comment}}", image_name)
    assert history.returncode == 0, history.stderr
    newest = history.stdout.splitlines()[0]
    assert newest == "sh -c echo hi > /greeting|the greeting"
    base = clients.docker("history", "-q", "busybox").stdout.splitlines()
    assert len(history.stdout.splitlines()) == len(base) + 1


def test_commit_pauses_a_running_container(clients, image_name: str) -> None:
    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "busybox", "sh", "-c",
                          "echo up > /up; sleep 300").returncode == 0
    wait_until(lambda: clients.docker("exec", name, "test", "-e", "/up").returncode == 0,
               10, "the container's file")
    since = f"{time.time() - 1:.3f}"
    assert clients.docker("commit", name, image_name).returncode == 0
    assert clients.inspect(name)["State"]["Status"] == "running"
    assert _run(clients, image_name, "cat /up") == "up\n"
    events = clients.docker("events", "--since", since, "--until", f"{time.time():.3f}",
                            "--filter",
                            f"container={name}", "--format", "{{.Action}}")
    assert [a for a in events.stdout.split() if a in ("pause", "unpause", "commit")] == [
        "pause", "commit", "unpause"]  # moby unpauses last (a deferred unpause)
    # --pause=false: not frozen
    since = f"{time.time():.3f}"
    assert clients.docker("commit", "--pause=false", name, image_name + ":nopause"
                          ).returncode == 0
    events = clients.docker("events", "--since", since, "--until", f"{time.time():.3f}",
                            "--filter",
                            f"container={name}", "--format", "{{.Action}}")
    assert "pause" not in events.stdout.split()
    clients.docker("rmi", image_name + ":nopause")


def test_an_unchanged_container_commits_an_empty_layer(clients, image_name: str) -> None:
    name = clients.name()
    assert clients.docker("run", "--name", name, "busybox", "true").returncode == 0
    assert clients.docker("commit", name, image_name).returncode == 0
    layers = clients.api("GET", f"/images/{image_name}/json").json()["RootFS"]["Layers"]
    base = clients.api("GET", "/images/busybox/json").json()["RootFS"]["Layers"]
    assert layers == base
    history = clients.api("GET", f"/images/{image_name}/history").json()
    assert history[0]["CreatedBy"] == "true" and history[0]["Size"] == 0


def test_a_bad_change_is_refused_and_makes_no_image(clients, image_name: str) -> None:
    name = clients.name()
    assert clients.docker("run", "--name", name, "busybox", "true").returncode == 0
    before = {i["Id"] for i in clients.api("GET", "/images/json?all=1").json()}
    reply = clients.api("POST", f"/commit?container={name}&repo={image_name}"
                        "&changes=RUN%20echo%20hi")
    assert reply.status == 400
    assert reply.message == "run is not a valid change command"
    after = {i["Id"] for i in clients.api("GET", "/images/json?all=1").json()}
    assert after == before
    assert clients.api("POST", "/commit?container=no-such-container-x").status == 404


def test_docker_py_commit(clients, image_name: str) -> None:
    name = clients.name()
    assert clients.docker("run", "--name", name, "busybox", "sh", "-c",
                          "echo py > /py").returncode == 0
    image = clients.py.containers.get(name).commit(repository=image_name, tag="v1",
                                                   changes=["ENV FROM_PY=yes"])
    assert f"{image_name}:v1" in image.tags
    assert "FROM_PY=yes" in image.attrs["Config"]["Env"]
    assert image.attrs["Container"] == clients.inspect(name)["Id"]  # the one committed
    assert _run(clients, f"{image_name}:v1", "cat /py") == "py\n"
    clients.docker("rmi", f"{image_name}:v1")


@pytest.mark.skipif(SKOPEO is None, reason="skopeo is not installed")
def test_a_committed_image_is_a_real_image(clients, image_name: str, tmp_path: Path) -> None:
    name = clients.name()
    assert clients.docker("run", "--name", name, "busybox", "sh", "-c",
                          "echo real > /real && rm /bin/ls").returncode == 0
    assert clients.docker("commit", name, image_name).returncode == 0
    saved = tmp_path / "image.tar"
    out = clients.docker("save", "-o", str(saved), image_name)
    assert out.returncode == 0, out.stderr
    assert SKOPEO is not None
    seen = subprocess.run([SKOPEO, "inspect", "--config", f"docker-archive:{saved}"],
                          capture_output=True, text=True, timeout=60)
    assert seen.returncode == 0, seen.stderr
    config = json.loads(seen.stdout)
    inspect = clients.api("GET", f"/images/{image_name}/json").json()
    assert config["rootfs"]["diff_ids"] == inspect["RootFS"]["Layers"]
    assert config["history"][-1]["created_by"] == "sh -c echo real > /real && rm /bin/ls"


def test_a_commit_body_is_a_config_to_commit(clients, image_name: str) -> None:
    name = clients.name()
    assert clients.docker("run", "--name", name, "busybox", "true").returncode == 0
    reply = clients.api("POST", f"/commit?container={name}&repo={image_name}",
                        {"Cmd": ["echo", "from the body"], "Env": ["X=1"]})
    assert reply.status == 201, reply.body
    config = clients.api("GET", f"/images/{image_name}/json").json()["Config"]
    assert config["Cmd"] == ["echo", "from the body"]
    assert "X=1" in config["Env"] and any(e.startswith("PATH=") for e in config["Env"])
    assert clients.api("POST", f"/commit?container={name}&repo={image_name}",
                       "null").status == 201
