"""busybox:latest built from /bin/busybox, and our archives read by the real tools:
a private dockerd (Debian's docker.io 20.10) loads and runs our image, and we load
what it saves; skopeo reads our tar both as an OCI archive and as a docker-archive."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import pytest

from shared.images import archive
from shared.images.busybox import BUSYBOX, build_busybox
from shared.images.store import ImageStore

needs_busybox = pytest.mark.skipif(
    not os.access(BUSYBOX, os.X_OK), reason="busybox-static (/bin/busybox) is not installed"
)
DOCKERD, DOCKER, SKOPEO = (shutil.which(tool) for tool in ("dockerd", "docker", "skopeo"))


@needs_busybox
def test_busybox_image_is_reproducible_and_fast(tmp_path):
    started = time.monotonic()
    first = build_busybox(ImageStore(str(tmp_path / "one")))
    elapsed = time.monotonic() - started
    second = build_busybox(ImageStore(str(tmp_path / "two")))
    assert elapsed < 1.0
    assert (first.id, first.manifest_digest) == (second.id, second.manifest_digest)
    assert first.repo_tags == ["busybox:latest"]
    assert first.config["config"] == {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["sh"],
    }
    assert first.os == "linux" and first.architecture


@needs_busybox
@pytest.mark.skipif(os.geteuid() != 0, reason="unpacking owners needs root")
def test_busybox_rootfs(tmp_path):
    store = ImageStore(str(tmp_path / "images"))
    [root] = store.layer_dirs(build_busybox(store))
    assert os.readlink(os.path.join(root, "bin/sh")) == "/bin/busybox"
    assert os.stat(os.path.join(root, "tmp")).st_mode & 0o7777 == 0o1777
    with open(os.path.join(root, "etc/passwd")) as f:
        assert "nobody:x:65534:65534:" in f.read()
    for mountpoint in ("proc", "sys", "dev", "root", "home", "var"):
        assert os.path.isdir(os.path.join(root, mountpoint)), mountpoint


def test_cli_is_idempotent_and_saves(tmp_path):
    if not os.access(BUSYBOX, os.X_OK):
        pytest.skip("busybox-static (/bin/busybox) is not installed")
    command = [sys.executable, "-m", "shared.images.busybox", "--root", str(tmp_path / "s")]
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": repo}
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    again = subprocess.run(
        [*command, "--save", str(tmp_path / "bb.tar")], env=env, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert first.stdout == again.stdout and first.stdout.startswith("sha256:")
    assert (tmp_path / "bb.tar").stat().st_size > 500_000


@pytest.fixture(scope="module")
def busybox_tar(tmp_path_factory) -> tuple[str, str, str]:
    """(path of our saved busybox tar, image id, manifest digest)."""
    if not os.access(BUSYBOX, os.X_OK):
        pytest.skip("busybox-static (/bin/busybox) is not installed")
    base = tmp_path_factory.mktemp("busybox")
    store = ImageStore(str(base / "images"))
    image = build_busybox(store)
    path = str(base / "busybox.tar")
    with open(path, "wb") as out:
        archive.save(store, ["busybox"], out)
    return path, image.id, image.manifest_digest


@pytest.mark.skipif(SKOPEO is None, reason="skopeo is not installed")
@pytest.mark.parametrize("transport", ["oci-archive", "docker-archive"])
def test_skopeo_reads_our_archive(busybox_tar, transport):
    path, _, manifest_digest = busybox_tar
    result = subprocess.run(
        [SKOPEO, "inspect", f"{transport}:{path}"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["Os"] == "linux" and info["Env"][0].startswith("PATH=")
    if transport == "oci-archive":
        assert info["Digest"] == manifest_digest


@contextlib.contextmanager
def private_dockerd() -> Iterator[list[str]]:
    """A dockerd of our own (own data root, exec root, socket, no bridge, no iptables).
    Yields the docker command line that talks to it; stops it by its PID after."""
    base = tempfile.mkdtemp(prefix="wb-images-dockerd-", dir="/tmp")
    sock = os.path.join(base, "docker.sock")
    log = open(os.path.join(base, "dockerd.log"), "wb")
    daemon = subprocess.Popen(
        [DOCKERD, "--data-root", f"{base}/data", "--exec-root", f"{base}/exec",
         "-H", f"unix://{sock}", "--pidfile", f"{base}/docker.pid",
         "--bridge=none", "--iptables=false", "--ip-masq=false"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    docker = [DOCKER, "-H", f"unix://{sock}"]
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([*docker, "version"], capture_output=True).returncode != 0:
            if daemon.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(base, "dockerd.log")) as f:
                    pytest.fail("dockerd did not start:\n" + f.read()[-2000:])
            time.sleep(0.2)
        yield docker
    finally:
        daemon.terminate()
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
        with open("/proc/self/mountinfo") as f:
            leftovers = [line.split()[4] for line in f if line.split()[4].startswith(base)]
        for mountpoint in reversed(leftovers):
            subprocess.run(["umount", "-l", mountpoint], check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(
    DOCKERD is None or DOCKER is None, reason="dockerd and docker (Debian docker.io) not installed"
)
@pytest.mark.skipif(os.geteuid() != 0, reason="dockerd needs root")
def test_real_docker_runs_our_busybox_and_we_load_its_save(busybox_tar, tmp_path):
    path, image_id, _ = busybox_tar
    with private_dockerd() as docker:

        def run(*args: str) -> str:
            done = subprocess.run([*docker, *args], capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"docker {' '.join(args)}: {done.stderr}"
            return done.stdout

        assert run("load", "-i", path).strip() == "Loaded image: busybox:latest"
        assert run("image", "inspect", "--format", "{{.Id}}", "busybox").strip() == image_id
        assert run("run", "--rm", "--network", "none", "busybox", "echo", "hi") == "hi\n"
        saved = str(tmp_path / "docker-saved.tar")
        run("save", "-o", saved, "busybox")

    store = ImageStore(str(tmp_path / "images"))
    with open(saved, "rb") as f:
        assert archive.load(store, f) == ["busybox:latest"]
    image = store.resolve("busybox")
    assert image.id == image_id  # the same config, so the same image ID
    if os.geteuid() == 0:
        [root] = store.layer_dirs(image)
        assert os.path.isfile(os.path.join(root, "bin/busybox"))
