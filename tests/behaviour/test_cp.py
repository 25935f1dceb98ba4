"""`docker cp` both ways (the archive API), running and stopped containers, with
Docker's rules for directories, trailing `/.`, missing parents and `-` (a tar)."""

from __future__ import annotations

import base64
import io
import json
import os
import tarfile
from pathlib import Path

from tests.behaviour.clients import wait_until

SETUP = ("mkdir -p /d/sub && echo one > /d/f && echo two > /d/sub/g "
         "&& ln -s /d /ld && touch /ready")


def _running(clients, name: str) -> None:
    result = clients.docker("run", "-d", "--name", name, "busybox", "sh", "-c",
                            SETUP + " && sleep 300")
    assert result.returncode == 0, result.stderr
    wait_until(lambda: clients.docker("exec", name, "test", "-e", "/ready").returncode == 0,
               10, "the container's files")


def _cat(clients, name: str, path: str) -> str:
    """A file's text, read from inside a running container."""
    result = clients.docker("exec", name, "cat", path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_cp_out_of_a_running_container(cli, clients, tmp_path: Path) -> None:
    name = clients.name()
    _running(clients, name)
    assert cli("cp", f"{name}:/d/f", str(tmp_path / "copy")).returncode == 0
    assert (tmp_path / "copy").read_text() == "one\n"
    # a directory onto a new name becomes that name
    assert cli("cp", f"{name}:/d", str(tmp_path / "new")).returncode == 0
    assert (tmp_path / "new" / "sub" / "g").read_text() == "two\n"
    # into an existing directory: under its own name; with `/.`: its contents
    (tmp_path / "there").mkdir()
    assert cli("cp", f"{name}:/d", str(tmp_path / "there")).returncode == 0
    assert (tmp_path / "there" / "d" / "f").read_text() == "one\n"
    (tmp_path / "contents").mkdir()
    assert cli("cp", f"{name}:/d/.", str(tmp_path / "contents")).returncode == 0
    assert sorted(os.listdir(tmp_path / "contents")) == ["f", "sub"]
    # a file into an existing directory keeps its name
    assert cli("cp", f"{name}:/d/sub/g", str(tmp_path / "there")).returncode == 0
    assert (tmp_path / "there" / "g").read_text() == "two\n"
    # a symlink is copied as the link; -L copies what it points to
    assert cli("cp", f"{name}:/ld", str(tmp_path / "link")).returncode == 0
    assert os.readlink(tmp_path / "link") == "/d"
    assert cli("cp", "-L", f"{name}:/ld", str(tmp_path / "followed")).returncode == 0
    assert (tmp_path / "followed" / "f").read_text() == "one\n"


def test_cp_into_a_running_container(cli, clients, tmp_path: Path) -> None:
    name = clients.name()
    _running(clients, name)
    (tmp_path / "file.txt").write_text("local\n")
    (tmp_path / "dir" / "inner").mkdir(parents=True)
    (tmp_path / "dir" / "inner" / "x").write_text("x\n")
    assert cli("cp", str(tmp_path / "file.txt"), f"{name}:/d/sub/").returncode == 0
    assert _cat(clients, name, "/d/sub/file.txt") == "local\n"
    assert cli("cp", str(tmp_path / "file.txt"), f"{name}:/d/renamed").returncode == 0
    assert _cat(clients, name, "/d/renamed") == "local\n"
    assert cli("cp", str(tmp_path / "file.txt"), f"{name}:/d/f").returncode == 0  # overwrite
    assert _cat(clients, name, "/d/f") == "local\n"
    assert cli("cp", str(tmp_path / "dir"), f"{name}:/newdir").returncode == 0
    assert _cat(clients, name, "/newdir/inner/x") == "x\n"
    assert cli("cp", str(tmp_path / "dir"), f"{name}:/d").returncode == 0
    assert _cat(clients, name, "/d/dir/inner/x") == "x\n"
    assert cli("cp", str(tmp_path / "dir") + "/.", f"{name}:/d/sub").returncode == 0
    assert _cat(clients, name, "/d/sub/inner/x") == "x\n"
    # through a symlink to a directory: into the directory it names
    assert cli("cp", str(tmp_path / "file.txt"), f"{name}:/ld").returncode == 0
    assert _cat(clients, name, "/d/file.txt") == "local\n"


def test_cp_errors(cli, clients, tmp_path: Path) -> None:
    name = clients.name()
    _running(clients, name)
    (tmp_path / "file.txt").write_text("local\n")
    missing = cli("cp", str(tmp_path / "file.txt"), f"{name}:/nope/x")
    assert missing.returncode != 0
    assert f"Could not find the file /nope in container {name}" in missing.stderr
    out = cli("cp", f"{name}:/nope", str(tmp_path / "y"))
    assert out.returncode != 0 and f"Could not find the file /nope in container {name}" \
        in out.stderr
    assert not (tmp_path / "y").exists()
    # a directory onto an existing file
    dir_onto_file = cli("cp", f"{name}:/d", str(tmp_path / "file.txt"))
    assert dir_onto_file.returncode != 0 and (tmp_path / "file.txt").read_text() == "local\n"
    # a file to a directory path that does not exist
    assert cli("cp", str(tmp_path / "file.txt"), f"{name}:/d/none/").returncode != 0
    assert clients.docker("exec", name, "test", "-e", "/d/none").returncode != 0
    gone = cli("cp", str(tmp_path / "file.txt"), "wb-no-such-container:/tmp")
    assert gone.returncode != 0 and "No such container: wb-no-such-container" in gone.stderr


def test_cp_with_stopped_containers(cli, clients, tmp_path: Path) -> None:
    """A created container (never started) and an exited one: the daemon mounts their
    layers for the copy; what was copied in is there when they run."""
    (tmp_path / "in.txt").write_text("in\n")
    created = clients.name()
    assert clients.docker("create", "--name", created, "busybox", "cat", "/etc/in.txt"
                          ).returncode == 0
    assert cli("cp", str(tmp_path / "in.txt"), f"{created}:/etc/").returncode == 0
    assert cli("cp", f"{created}:/etc/in.txt", str(tmp_path / "back")).returncode == 0
    assert (tmp_path / "back").read_text() == "in\n"
    run = clients.docker("start", "-a", created)
    assert run.returncode == 0 and run.stdout == "in\n", run.stderr

    exited = clients.name()
    assert clients.docker("run", "--name", exited, "busybox", "sh", "-c",
                          "echo made > /made").returncode == 0
    assert cli("cp", f"{exited}:/made", str(tmp_path / "made")).returncode == 0
    assert (tmp_path / "made").read_text() == "made\n"
    assert cli("cp", str(tmp_path / "in.txt"), f"{exited}:/made").returncode == 0
    tar = cli("cp", f"{exited}:/made", "-", binary=True).stdout  # the tar, on stdout
    assert tarfile.open(fileobj=io.BytesIO(tar)).extractfile("made").read() == b"in\n"


def test_cp_with_a_tar_on_stdin_and_stdout(cli, clients) -> None:
    name = clients.name()
    _running(clients, name)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"from a tar\n"
        info = tarfile.TarInfo("t/one.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    sent = cli("cp", "-", f"{name}:/d", input=buffer.getvalue().decode("latin-1"))
    assert sent.returncode == 0, sent.stderr
    assert _cat(clients, name, "/d/t/one.txt") == "from a tar\n"
    out = cli("cp", f"{name}:/d/sub", "-", binary=True)
    assert out.returncode == 0
    names = tarfile.open(fileobj=io.BytesIO(out.stdout)).getnames()
    assert names == ["sub", "sub/g"]
    # `-` into something that is not a directory is refused
    refused = cli("cp", "-", f"{name}:/d/f", input="")
    assert refused.returncode != 0 and "must be a directory" in refused.stderr


def test_archive_api_stat_header_and_docker_py(clients) -> None:
    name = clients.name()
    _running(clients, name)
    head = clients.api("HEAD", f"/containers/{name}/archive?path=/ld")
    assert head.status == 200
    stat = json.loads(base64.b64decode(head.headers["x-docker-container-path-stat"]))
    assert stat["name"] == "ld" and stat["linkTarget"] == "/d"
    assert stat["mode"] & (1 << 27)  # Go's os.ModeSymlink
    assert set(stat) == {"name", "size", "mode", "mtime", "linkTarget"}
    dot = clients.api("GET", f"/containers/{name}/archive?path=/d/.")
    assert dot.status == 200 and dot.headers["content-type"] == "application/x-tar"
    assert tarfile.open(fileobj=io.BytesIO(dot.body)).getnames() == [".", "./f", "./sub",
                                                                     "./sub/g"]
    container = clients.py.containers.get(name)
    chunks, info = container.get_archive("/d/f")
    assert info["name"] == "f" and info["size"] == 4 and not info["mode"] & (1 << 31)
    member = tarfile.open(fileobj=io.BytesIO(b"".join(chunks)))
    assert member.extractfile("f").read() == b"one\n"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("py.txt")
        info.size, info.uid, info.mode = 3, 1234, 0o640
        tar.addfile(info, io.BytesIO(b"py\n"))
    assert container.put_archive("/d", buffer.getvalue()) is True
    assert _cat(clients, name, "/d/py.txt") == "py\n"
    owner = clients.docker("exec", name, "stat", "-c", "%u %a", "/d/py.txt").stdout.split()
    assert owner == ["1234", "640"]  # the tar's owner and mode, kept


def test_archive_api_errors(clients) -> None:
    name = clients.name()
    _running(clients, name)
    empty = clients.api("GET", f"/containers/{name}/archive?path=")
    # Docker 20.10 says "pathcannot" (a typo fixed later): both are accepted.
    assert empty.status == 400 and empty.message.startswith("bad parameter: path")
    assert empty.message.endswith("cannot be empty")
    onto_file = clients.api("PUT", f"/containers/{name}/archive?path=/d/f", body=_tar("x"))
    # moby answers 400 (InvalidParameter) since 23.0; Docker 20.10 answered 500.
    assert onto_file.status in (400, 500)
    assert onto_file.message == "extraction point is not a directory"
    missing = clients.api("PUT", f"/containers/{name}/archive?path=/nope", body=_tar("x"))
    assert missing.status == 404
    assert missing.message == f"Could not find the file /nope in container {name}"
    # noOverwriteDirNonDir: a file may not replace the directory /d/sub
    refused = clients.api("PUT", f"/containers/{name}/archive?path=/d&noOverwriteDirNonDir=1",
                          body=_tar("sub"))
    assert refused.status >= 400
    assert clients.docker("exec", name, "test", "-d", "/d/sub").returncode == 0
    # without it, the file replaces the directory
    replaced = clients.api("PUT", f"/containers/{name}/archive?path=/d", body=_tar("sub"))
    assert replaced.status == 200
    assert clients.docker("exec", name, "test", "-f", "/d/sub").returncode == 0
    gone = clients.api("HEAD", "/containers/wb-no-such-container/archive?path=/")
    assert gone.status == 404


def test_cp_archive_mode_owns_files_by_the_containers_user(clients, tmp_path: Path) -> None:
    """-a (copyUIDGID): every file is the container's user's (moby's ChownOpts);
    without it the owners in the tar are kept."""
    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "--user", "nobody", "busybox",
                          "sleep", "300").returncode == 0
    (tmp_path / "f").write_text("f\n")
    os.chown(tmp_path / "f", 4321, 4321)
    assert clients.docker("cp", "-a", str(tmp_path / "f"), f"{name}:/tmp/a").returncode == 0
    assert clients.docker("cp", str(tmp_path / "f"), f"{name}:/tmp/plain").returncode == 0
    owners = clients.docker("exec", name, "stat", "-c", "%u:%g", "/tmp/a", "/tmp/plain")
    assert owners.stdout.split() == ["65534:65534", "4321:4321"], owners.stderr
    assert clients.ours("cp", "-a", str(tmp_path / "f"), f"{name}:/tmp/ours").returncode == 0
    ours = clients.docker("exec", name, "stat", "-c", "%u:%g", "/tmp/ours").stdout.split()
    assert ours == ["65534:65534"]


def _tar(name: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = 2
        tar.addfile(info, io.BytesIO(b"x\n"))
    return buffer.getvalue()


def test_cp_into_a_read_only_rootfs_is_refused(clients, tmp_path: Path) -> None:
    """moby's checkWritablePath: `--read-only` refuses a copy in, running or not."""
    name = clients.name()
    assert clients.docker("run", "-d", "--read-only", "--name", name, "busybox",
                          "sleep", "300").returncode == 0
    (tmp_path / "f").write_text("f\n")
    out = clients.docker("cp", str(tmp_path / "f"), f"{name}:/tmp/")
    assert out.returncode != 0 and "container rootfs is marked read-only" in out.stderr
    assert clients.docker("kill", name).returncode == 0
    stopped = clients.docker("cp", str(tmp_path / "f"), f"{name}:/tmp/")
    assert stopped.returncode != 0 and "marked read-only" in stopped.stderr
    assert clients.docker("cp", f"{name}:/etc/passwd", str(tmp_path / "p")).returncode == 0


def test_cp_of_the_whole_root_leaves_the_kernels_filesystems_out(clients) -> None:
    """/proc and /sys are the kernel's, mounted in a running container: a copy of `/`
    has them as empty directories, as Docker's view of a container does."""
    name = clients.name()
    _running(clients, name)
    out = clients.docker("cp", f"{name}:/", "-", binary=True, timeout=120)
    assert out.returncode == 0, out.stderr
    names = {n.strip("/") for n in tarfile.open(fileobj=io.BytesIO(out.stdout)).getnames()}
    assert {"bin/busybox", "d/f", "proc", "sys"} <= names
    assert not [n for n in names if n.startswith(("proc/", "sys/"))]


def test_cp_of_the_root_and_of_contents_to_a_new_directory(cli, clients,
                                                           tmp_path: Path) -> None:
    name = clients.name()
    _running(clients, name)
    assert cli("cp", f"{name}:/d/.", str(tmp_path / "contents")).returncode == 0
    assert sorted(os.listdir(tmp_path / "contents")) == ["f", "sub"]
    assert cli("cp", f"{name}:/", str(tmp_path / "root"), timeout=120).returncode == 0
    assert (tmp_path / "root" / "d" / "f").read_text() == "one\n"
    assert (tmp_path / "root" / "bin" / "busybox").is_file()


def test_cp_from_a_stopped_container_sees_its_mounts(cli, clients, tmp_path: Path) -> None:
    """A stopped container's own mounts (here the daemon's /etc/hostname) are bound on
    its layers for the copy, as Docker's openContainerFS binds them."""
    name = clients.name()
    assert clients.docker("run", "--name", name, "--hostname", "copied-host", "busybox",
                          "true").returncode == 0
    assert cli("cp", f"{name}:/etc/hostname", str(tmp_path / "hostname")).returncode == 0
    assert (tmp_path / "hostname").read_text() == "copied-host\n"
