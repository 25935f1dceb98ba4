"""`docker diff` (what a container changed, from its overlay's upper dir) and
`docker export` (a tar of its filesystem), running and stopped."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from tests.behaviour.clients import wait_until

CHANGES = ("mkdir -p /d/sub && echo one > /d/sub/f && echo more >> /etc/passwd "
           "&& rm /bin/ls && rm -r /home && touch /ready")


def _changed(clients, name: str) -> None:
    result = clients.docker("run", "-d", "--name", name, "busybox", "sh", "-c",
                            CHANGES + " && sleep 300")
    assert result.returncode == 0, result.stderr
    wait_until(lambda: clients.docker("exec", name, "test", "-e", "/ready").returncode == 0,
               10, "the container's changes")


EXPECTED = {"A /d", "A /d/sub", "A /d/sub/f", "C /etc", "C /etc/passwd", "C /bin",
            "D /bin/ls", "D /home", "A /ready"}


def test_a_fresh_container_has_no_changes(cli, clients) -> None:
    """The runtime's mount points (/etc/hosts, /proc...) are not the container's changes."""
    name = clients.name()
    assert clients.docker("run", "--name", name, "busybox", "true").returncode == 0
    out = cli("diff", name)
    assert out.returncode == 0 and out.stdout == "", out.stdout


def test_diff_lists_additions_changes_and_deletions(cli, clients) -> None:
    name = clients.name()
    _changed(clients, name)
    out = cli("diff", name)
    assert out.returncode == 0, out.stderr
    # The order is not Docker's promise (20.10's naive diff walks a map): a set.
    assert set(out.stdout.splitlines()) == EXPECTED
    changes = clients.api("GET", f"/containers/{name}/changes").json()
    kinds = {c["Path"]: c["Kind"] for c in changes}
    assert kinds["/d"] == 1 and kinds["/etc/passwd"] == 0 and kinds["/bin/ls"] == 2
    assert clients.docker("kill", name).returncode == 0
    stopped = cli("diff", name)  # the same, stopped
    assert set(stopped.stdout.splitlines()) == EXPECTED
    assert {c.path if hasattr(c, "path") else c["Path"]
            for c in clients.py.containers.get(name).diff()} == {
                line[2:] for line in EXPECTED}


def test_diff_of_a_directory_removed_and_made_again(clients) -> None:
    """rm -r then mkdir: overlayfs marks the new directory opaque; its old contents
    are gone, the new one's added."""
    name = clients.name()
    assert clients.docker("run", "--name", name, "busybox", "sh", "-c",
                          "rm -r /usr/sbin && mkdir /usr/sbin && echo x > /usr/sbin/new"
                          ).returncode == 0
    lines = set(clients.docker("diff", name).stdout.splitlines())
    assert "A /usr/sbin/new" in lines
    under = {line for line in lines if line[2:].startswith("/usr/sbin/")}
    assert all(line == "A /usr/sbin/new" or line.startswith("D ") for line in under)


def _names(tar_bytes: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        return {m.name.rstrip("/"): m for m in tar.getmembers()}


def test_export_is_the_containers_filesystem(cli, clients, tmp_path: Path) -> None:
    name = clients.name()
    _changed(clients, name)
    out = cli("export", name, binary=True)
    assert out.returncode == 0, out.stderr
    members = _names(out.stdout)
    assert members["d/sub/f"].isfile() and members["bin/busybox"].isfile()
    assert "bin/ls" not in members and "home" not in members
    assert members["d"].isdir()
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        passwd = tar.extractfile("etc/passwd")
        assert passwd is not None and passwd.read().endswith(b"more\n")
    # -o, from a stopped container
    assert clients.docker("kill", name).returncode == 0
    path = tmp_path / "fs.tar"
    assert cli("export", "-o", str(path), name).returncode == 0
    assert "d/sub/f" in _names(path.read_bytes())
    exported = b"".join(clients.py.containers.get(name).export())
    assert "d/sub/f" in _names(exported)
    assert os.path.getsize(path) > 0


def test_export_and_diff_of_a_missing_container(cli, clients) -> None:
    for verb in ("diff", "export"):
        out = cli(verb, "wb-no-such-container")
        assert out.returncode != 0
        assert "No such container: wb-no-such-container" in out.stderr


def test_a_container_that_exits_during_an_export(clients) -> None:
    """The export holds the container's filesystem; its exit is still recorded, and
    the export still ends."""
    from tests.engines import UnixHTTPConnection

    name = clients.name()
    assert clients.docker("run", "-d", "--name", name, "busybox", "sleep", "300"
                          ).returncode == 0
    conn = UnixHTTPConnection(str(clients.engine.socket), timeout=30)
    try:
        conn.request("GET", f"/containers/{name}/export")
        reply = conn.getresponse()
        assert reply.status == 200
        first = reply.read(512)
        assert clients.docker("kill", name).returncode == 0
        waited = clients.docker("wait", name, timeout=20)
        assert waited.returncode == 0 and waited.stdout.strip() == "137"
        rest = reply.read()
    finally:
        conn.close()
    assert "bin/busybox" in _names(first + rest)
