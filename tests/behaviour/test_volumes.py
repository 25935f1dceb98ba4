"""Bind mounts, named and anonymous volumes, --mount and --volumes-from (issue 17).

What a user sees, through the docker CLI, on every stage and on the reference dockerd:
the host's files inside the container, a volume's data outliving its container, the
image's files copied into a new volume, and the refusals in dockerd's words.
"""

from __future__ import annotations

import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    (d / "hello").write_text("from the host\n")
    return d


@pytest.fixture
def shared_dir(host_dir: Path) -> Iterator[Path]:
    """host_dir made a mount of its own in a peer group of its own (`mount
    --make-shared`): a shared or slave bind needs one (dockerd's ensureShared)."""
    subprocess.run(["mount", "--bind", str(host_dir), str(host_dir)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(host_dir)], check=True)
        yield host_dir
    finally:
        subprocess.run(["umount", str(host_dir)], check=True)


@pytest.fixture
def volume_names(clients) -> Iterator[list[str]]:
    """Volumes the test names; removed after it (after its containers: `clients` first)."""
    names: list[str] = []
    yield names
    for name in names:
        clients.api("DELETE", f"/volumes/{name}?force=1")


def new_volume(clients, names: list[str], *args: str) -> str:
    name = f"wbvol-{uuid.uuid4().hex[:10]}"
    names.append(name)
    done = clients.docker("volume", "create", *args, name)
    assert done.returncode == 0, done.stderr
    return name


def run(clients, *args: str) -> str:
    done = clients.docker("run", "--rm", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ------------------------------------------------------------------------ binds


def test_bind_mount_shows_and_writes_host_files(clients, host_dir: Path) -> None:
    out = run(clients, "-v", f"{host_dir}:/data", "busybox",
              "sh", "-c", "cat /data/hello; echo back > /data/written")
    assert out == "from the host\n"
    assert (host_dir / "written").read_text() == "back\n"


def test_read_only_bind_refuses_writes(clients, host_dir: Path) -> None:
    out = run(clients, "-v", f"{host_dir}:/data:ro,z", "busybox",
              "sh", "-c", "cat /data/hello; touch /data/x 2>&1; echo $?")
    assert out.splitlines()[0] == "from the host"
    assert "Read-only file system" in out
    assert not (host_dir / "x").exists()


def test_missing_bind_source_is_made_for_v_refused_for_mount(clients, tmp_path: Path) -> None:
    made = tmp_path / "made" / "here"
    run(clients, "-v", f"{made}:/data", "busybox", "true")
    assert made.is_dir()
    missing = tmp_path / "missing"
    done = clients.docker("run", "--rm", "--mount",
                          f"type=bind,source={missing},target=/data", "busybox", "true")
    assert done.returncode == 125
    assert (f'invalid mount config for type "bind": bind source path does not exist: '
            f"{missing}") in done.stderr
    assert not missing.exists()


def test_mount_bind_readonly_and_propagation(clients, shared_dir: Path) -> None:
    out = run(clients, "--mount",
              f"type=bind,source={shared_dir},target=/data,readonly,bind-propagation=rslave",
              "busybox", "sh", "-c",
              "cat /data/hello; touch /data/x 2>&1; grep ' /data ' /proc/self/mountinfo")
    lines = out.splitlines()
    assert lines[0] == "from the host"
    assert "Read-only file system" in lines[1]
    assert "master:" in lines[2]  # a slave of the host's mount: the kernel says so


def test_slave_bind_of_a_private_mount_is_refused(clients, host_dir: Path) -> None:
    """Nothing would propagate: dockerd refuses it at start (ensureSharedOrSlave)."""
    with open("/proc/self/mountinfo") as f:
        root_line = next(line for line in f if line.split()[4] == "/")
    if "shared:" in root_line or "master:" in root_line:
        pytest.skip("this host's / is shared: no private mount to try")
    done = clients.docker("run", "--rm", "-v", f"{host_dir}:/data:rslave", "busybox", "true")
    assert done.returncode != 0
    assert "is mounted on / but it is not a shared or slave mount" in done.stderr


@pytest.mark.parametrize(("spec", "message"), [
    ("/data:ro", "invalid volume specification: '/data:ro'"),
    ("/a:/b:bogus", "invalid mode: bogus"),
    ("/a:/b:ro,rw", "invalid mode: ro,rw"),
    ("/a:relative", "invalid volume specification: '/a:relative': invalid mount config "
                    "for type \"bind\": invalid mount path: 'relative' mount path must be "
                    "absolute"),
    ("/a:/", "invalid volume specification: '/a:/': invalid mount config for type "
             "\"bind\": invalid specification: destination can't be '/'"),
])
def test_bad_volume_specs_are_refused_in_dockerds_words(clients, spec: str,
                                                        message: str) -> None:
    reply = clients.api("POST", "/containers/create", {
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"Binds": [spec]}})
    # dockerd 20.10 answers these with a 500 (its parser's errors had no type then);
    # current moby, and this engine, with a 400
    assert reply.status == 400 or (not clients.engine.ours and reply.status == 500), reply.body
    assert message in reply.message


def test_duplicate_destination_is_refused(clients, host_dir: Path) -> None:
    reply = clients.api("POST", "/containers/create", {
        "Image": "busybox", "Cmd": ["true"],
        "HostConfig": {"Binds": [f"{host_dir}:/data", f"{host_dir}:/data"]}})
    assert reply.status == 400
    assert "Duplicate mount point: /data" in reply.message


def evil_image(clients, tmp_path: Path, link_to: Path) -> str:
    """An image of the static busybox with /evil a symlink to `link_to`, a host path."""
    tar_path = tmp_path / "evil.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add("/bin/busybox", "bin/busybox")
        for name in ("sh", "cat", "ls", "echo"):
            info = tarfile.TarInfo(f"bin/{name}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
        info = tarfile.TarInfo("evil")
        info.type, info.linkname = tarfile.SYMTYPE, str(link_to)
        tar.addfile(info)
    name = f"wb-evil-{uuid.uuid4().hex[:8]}"
    done = clients.docker("import", str(tar_path), name)
    assert done.returncode == 0, done.stderr
    return name


def test_bind_destination_symlink_out_of_rootfs_lands_inside(clients, host_dir: Path,
                                                             tmp_path: Path) -> None:
    """An image whose mount destination is a symlink to a host path must get the bind
    inside its own root (the symlink followed inside it), never on the host."""
    victim = tmp_path / "victim"
    victim.mkdir()
    image = evil_image(clients, tmp_path, victim)
    try:
        out = run(clients, "-v", f"{host_dir}:/evil/sub", image,
                  "sh", "-c", "cat /evil/sub/hello")
        assert out == "from the host\n"
        assert list(victim.iterdir()) == []  # nothing made, nothing mounted on the host
        with open("/proc/self/mountinfo") as f:
            assert str(victim) not in f.read()
    finally:
        clients.docker("rmi", "-f", image)


def test_tmpfs_mount_with_size_and_mode(clients) -> None:
    out = run(clients, "--mount", "type=tmpfs,target=/scratch,tmpfs-size=1m,tmpfs-mode=1770",
              "busybox", "sh", "-c",
              "stat -c %a /scratch; grep ' /scratch ' /proc/self/mountinfo")
    mode, line = out.splitlines()
    assert mode == "1770"
    assert "tmpfs" in line and "size=1024k" in line
