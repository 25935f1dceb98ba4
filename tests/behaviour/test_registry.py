"""Registries and image archives as a user meets them, with the docker CLI and ours:
push to a local registry, remove, pull back (same digest); login; save and load;
import; tag; history; prune. The registry is Debian's docker-registry on 127.0.0.1,
which Docker, like us, speaks to over plain HTTP (loopback registries are insecure by
default)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
import uuid

import pytest

from tests.registry import PASSWORD, USER, have_registry, start_registry

pytestmark = pytest.mark.skipif(not have_registry(), reason="docker-registry not installed")


@pytest.fixture(scope="module")
def registry():
    with start_registry() as running:
        yield running


@pytest.fixture(scope="module")
def basic_registry():
    with start_registry("htpasswd") as running:
        yield running


@pytest.fixture(scope="module")
def tls_registry():
    with start_registry(tls=True) as running:
        yield running


@pytest.fixture
def names(clients):
    """Image names this test makes; removed afterwards (rmi -f), whatever happens."""
    made: list[str] = []
    yield made
    for name in made:
        clients.api("DELETE", f"/images/{name}?force=1")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_push_rmi_pull_gives_the_same_image(cli, clients, registry, names) -> None:
    name = f"{registry.host}/wb/{unique(cli.kind)}:v1"
    names.append(name)
    busybox = clients.py.images.get("busybox").id
    assert cli("tag", "busybox", name).returncode == 0
    pushed = cli("push", name)
    assert pushed.returncode == 0, pushed.stderr
    assert f"The push refers to repository [{name.rsplit(':', 1)[0]}]" in pushed.stdout
    digest = re.search(r"v1: digest: (sha256:[0-9a-f]{64}) size: \d+", pushed.stdout).group(1)

    removed = cli("rmi", name)
    assert removed.returncode == 0 and f"Untagged: {name}" in removed.stdout
    assert clients.api("GET", f"/images/{name}/json").status == 404

    pulled = cli("pull", name)
    assert pulled.returncode == 0, pulled.stderr
    assert f"Digest: {digest}" in pulled.stdout
    assert f"Status: Downloaded newer image for {name}" in pulled.stdout
    assert pulled.stdout.rstrip().endswith(name)
    image = clients.api("GET", f"/images/{name}/json").json()
    assert image["Id"] == busybox
    assert f"{name.rsplit(':', 1)[0]}@{digest}" in image["RepoDigests"]

    again = cli("pull", name)
    assert f"Status: Image is up to date for {name}" in again.stdout


def test_an_insecure_registry_is_spoken_to_over_https_first(cli, clients, tls_registry,
                                                             names) -> None:
    """A registry serving only HTTPS, its certificate self-signed: on loopback it is
    insecure, so HTTPS is tried first and its certificate not checked (the plain HTTP
    registry above is reached by the fallback)."""
    name = f"{tls_registry.host}/wb/{unique(cli.kind)}:v1"
    names.append(name)
    assert cli("tag", "busybox", name).returncode == 0
    pushed = cli("push", name)
    assert pushed.returncode == 0, pushed.stderr
    assert cli("rmi", name).returncode == 0
    pulled = cli("pull", name)
    assert pulled.returncode == 0, pulled.stderr
    assert clients.api("GET", f"/images/{name}/json").json()["Id"] == (
        clients.py.images.get("busybox").id)


def test_pull_by_digest(cli, clients, registry, names) -> None:
    name = f"{registry.host}/wb/{unique('bydigest')}"
    names.append(f"{name}:v1")
    cli("tag", "busybox", f"{name}:v1")
    digest = re.search(r"digest: (sha256:\S+)", cli("push", f"{name}:v1").stdout).group(1)
    cli("rmi", f"{name}:v1")
    pulled = cli("pull", f"{name}@{digest}")
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.rstrip().endswith(f"{name}@{digest}")
    names.append(f"{name}@{digest}")
    assert clients.api("GET", f"/images/{name}@{digest}/json").status == 200


def test_pull_of_a_missing_tag_fails(cli, registry) -> None:
    result = cli("pull", f"{registry.host}/wb/nosuch:v1")
    assert result.returncode == 1
    assert "manifest unknown" in result.stderr


def test_login_push_pull_logout(cli, clients, basic_registry, names, tmp_path) -> None:
    env = {"DOCKER_CONFIG": str(tmp_path)}
    name = f"{basic_registry.host}/wb/{unique('private')}:v1"
    names.append(name)
    cli("tag", "busybox", name)
    refused = cli("push", name, env=env)
    assert refused.returncode == 1
    assert "no basic auth credentials" in (refused.stdout + refused.stderr)

    wrong = cli("login", "-u", USER, "--password-stdin", basic_registry.host,
                input="nope\n", env=env)
    assert wrong.returncode == 1 and "401" in wrong.stderr
    login = cli("login", "-u", USER, "--password-stdin", basic_registry.host,
                input=PASSWORD + "\n", env=env)
    assert login.returncode == 0, login.stderr
    assert "Login Succeeded" in login.stdout
    auths = json.loads((tmp_path / "config.json").read_text())["auths"]
    assert auths[basic_registry.host]["auth"]  # base64 "user:password", as docker keeps it

    assert cli("push", name, env=env).returncode == 0
    cli("rmi", name)
    assert cli("pull", name, env=env).returncode == 0

    logout = cli("logout", basic_registry.host, env=env)
    assert f"Removing login credentials for {basic_registry.host}" in logout.stdout
    config = json.loads((tmp_path / "config.json").read_text())
    assert basic_registry.host not in config.get("auths", {})


def test_save_and_load_round_trip(cli, clients, names, tmp_path) -> None:
    name = f"{unique('wb-saved')}:v1"
    names.append(name)
    image_id = clients.py.images.get("busybox").id
    cli("tag", "busybox", name)
    archive = tmp_path / "saved.tar"
    saved = cli("save", "-o", str(archive), name)
    assert saved.returncode == 0, saved.stderr
    with tarfile.open(archive) as tar:
        members = set(tar.getnames())
    assert "manifest.json" in members  # docker-archive: what `docker load` reads first
    assert cli("rmi", name).returncode == 0
    loaded = cli("load", "-i", str(archive))
    assert loaded.returncode == 0, loaded.stderr
    assert f"Loaded image: {name}" in loaded.stdout
    assert clients.api("GET", f"/images/{name}/json").json()["Id"] == image_id


def test_save_to_stdout_and_load_from_stdin(cli, clients, names) -> None:
    name = f"{unique('wb-piped')}:v1"
    names.append(name)
    cli("tag", "busybox", name)
    saved = cli("save", name, binary=True)
    assert saved.returncode == 0 and saved.stdout[257:262] == b"ustar"
    cli("rmi", name)
    command = (clients.docker_command() if cli.kind == "docker" else clients.ours_command())
    result = subprocess.run([*command, "load"], input=saved.stdout, capture_output=True,
                            env=clients.cli_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"Loaded image: {name}".encode() in result.stdout


def rootfs_tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        data = b"imported\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_import_a_rootfs(cli, clients, names, tmp_path) -> None:
    name = f"{unique('wb-imported')}:v1"
    names.append(name)
    path = tmp_path / "rootfs.tar"
    path.write_bytes(rootfs_tar())
    result = cli("import", "--change", 'CMD ["sh"]', "--change", "ENV A=1", str(path), name)
    assert result.returncode == 0, result.stderr
    image_id = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image_id)
    image = clients.api("GET", f"/images/{name}/json").json()
    assert image["Id"] == image_id
    assert image["Config"]["Cmd"] == ["sh"]
    assert "A=1" in image["Config"]["Env"]
    assert len(image["RootFS"]["Layers"]) == 1
    history = clients.api("GET", f"/images/{name}/history").json()
    assert history[0]["Comment"] == "Imported from -"
    assert history[0]["Id"] == image_id


def test_tag_and_history(cli, clients, names) -> None:
    name = f"{unique('wb-tagged')}:v2"
    names.append(name)
    assert cli("tag", "busybox", name).returncode == 0
    busybox = clients.py.images.get("busybox")
    assert name in clients.py.images.get(name).tags and clients.py.images.get(name).id == busybox.id
    history = cli("history", name)
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert lines[1].startswith(busybox.id.removeprefix("sha256:")[:12])
    rows = clients.api("GET", f"/images/{name}/history").json()
    assert rows[0]["Id"] == busybox.id and name in rows[0]["Tags"]
    assert sum(row["Size"] for row in rows) == busybox.attrs["Size"]
    assert cli("history", "-q", name).stdout.split()[0] == busybox.short_id.removeprefix("sha256:")


def test_prune_removes_dangling_images(clients, names, tmp_path) -> None:
    path = tmp_path / "rootfs.tar"
    path.write_bytes(rootfs_tar() + b"\0" * 1024)  # not the other test's image
    image_id = clients.docker("import", str(path)).stdout.strip()
    names.append(image_id)
    assert clients.api("GET", f"/images/{image_id}/json").status == 200
    reply = clients.api("POST", "/images/prune")
    assert reply.status == 200
    assert {"Deleted": image_id} in (reply.json()["ImagesDeleted"] or [])
    assert clients.api("GET", f"/images/{image_id}/json").status == 404
    assert clients.api("GET", "/images/busybox/json").status == 200
