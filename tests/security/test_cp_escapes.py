"""`docker cp` never reads or writes outside the container, whatever it plants.

The container controls every path the copy walks: symlinks to the host's directories
(absolute, relative, /proc/self/root), one swapped in while the copy runs (the class of
CVE-2018-15664), and a tar sent into it with `..`, absolute names and links. The host
side of each attack is a file or directory in this test's tmp_path, which the
container's links name by its absolute host path: it must never be read or written.
"""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

from tests.behaviour.clients import wait_until

SECRET = "HOST SECRET\n"


def _host(tmp_path: Path) -> Path:
    """A host directory with a secret in it, and nothing else."""
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret").write_text(SECRET)
    return host


def _run(clients, script: str) -> str:
    name = clients.name()
    result = clients.docker("run", "-d", "--name", name, "busybox", "sh", "-c",
                            script + " && touch /ready && sleep 300")
    assert result.returncode == 0, result.stderr
    wait_until(lambda: clients.docker("exec", name, "test", "-e", "/ready").returncode == 0,
               10, "the container's links")
    return name


def _read(clients, name: str, path: str) -> bytes | None:
    """The bytes of the single file the archive API sends for path, or None."""
    reply = clients.api("GET", f"/containers/{name}/archive?path={path}")
    if reply.status != 200:
        return None
    try:
        with tarfile.open(fileobj=io.BytesIO(reply.body)) as tar:
            for member in tar:
                if member.isfile():
                    f = tar.extractfile(member)
                    return f.read() if f else None
    except tarfile.ReadError:
        return None  # a tar cut short (Docker's, when the file changes under it)
    return None


def _tar(*entries: tarfile.TarInfo, data: bytes = b"pwned\n") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info in entries:
            if info.isreg():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buffer.getvalue()


def _entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    return info


def test_planted_symlinks_lead_nowhere_on_the_host(clients, tmp_path: Path) -> None:
    host = _host(tmp_path)
    depth = "../" * 12
    name = _run(clients, f"ln -s {host} /abs && ln -s {depth}{str(host).lstrip('/')} /rel "
                         "&& mkdir /d && ln -s / /d/root")
    for i, path in enumerate(("/abs/secret", "/rel/secret", f"/d/root{host}/secret",
                              f"/proc/self/root{host}/secret", f"/proc/1/root{host}/secret")):
        assert _read(clients, name, path) != SECRET.encode(), path
        out = tmp_path / f"out{i}"
        clients.docker("cp", f"{name}:{path}", str(out))
        assert not out.is_file() or out.read_text() != SECRET, path
    (tmp_path / "new.txt").write_text("from outside\n")
    for dest in ("/abs/", "/rel/", f"/d/root{host}/", "/abs/planted"):
        clients.docker("cp", str(tmp_path / "new.txt"), f"{name}:{dest}")
    assert sorted(p.name for p in host.iterdir()) == ["secret"]
    # Stopped: the same links, in the layers the daemon mounts for the copy.
    assert clients.docker("kill", name).returncode == 0
    assert _read(clients, name, "/abs/secret") != SECRET.encode()
    assert _read(clients, name, "/rel/secret") != SECRET.encode()
    clients.docker("cp", str(tmp_path / "new.txt"), f"{name}:/abs/")
    clients.api("PUT", f"/containers/{name}/archive?path=/rel", body=_tar(_entry("x")))
    assert sorted(p.name for p in host.iterdir()) == ["secret"]


def test_a_tar_sent_in_cannot_leave_the_destination(clients, tmp_path: Path) -> None:
    host = _host(tmp_path)
    name = _run(clients, f"mkdir -p /dest && ln -s {host} /dest/hostlink")
    attacks = [
        _tar(_entry("../" * 12 + str(host / "dotdot").lstrip("/"))),
        _tar(_entry("a/../../" + "../" * 12 + str(host / "dotdot2").lstrip("/"))),
        _tar(_entry("hostlink/through")),  # written through a symlink planted before
        _tar(_entry("l", tarfile.SYMTYPE, str(host)), _entry("l/through2")),
        _tar(_entry("h", tarfile.LNKTYPE, "../" * 12 + str(host / "secret").lstrip("/"))),
        _tar(_entry("h2", tarfile.LNKTYPE, str(host / "secret"))),
        _tar(_entry(str(host / "absolute"))),
    ]
    for body in attacks:
        reply = clients.api("PUT", f"/containers/{name}/archive?path=/dest", body=body)
        assert reply.status in (200, 400, 404, 500), reply.status
    assert sorted(p.name for p in host.iterdir()) == ["secret"]
    assert (host / "secret").read_text() == SECRET
    # A hard link, if made at all, is to a file of the container, never the host's.
    for link in ("/dest/h", "/dest/h2"):
        seen = clients.docker("exec", name, "cat", link)
        assert SECRET not in seen.stdout
    # An absolute name lands inside the destination, as Docker's untar puts it.
    inside = clients.docker("exec", name, "find", "/dest", "-name", "absolute")
    assert SECRET not in inside.stdout


def test_a_symlink_swapped_during_the_copy(clients, tmp_path: Path) -> None:
    """CVE-2018-15664: /w/t is a directory, then a symlink to the host's directory,
    again and again, while the daemon copies from and into it."""
    host = _host(tmp_path)
    name = _run(clients, f"mkdir -p /w/dir && echo container > /w/dir/secret "
                         f"&& ln -s {host} /w/link "
                         "&& (while :; do mv /w/dir /w/t; mv /w/t /w/dir; "
                         "mv /w/link /w/t; mv /w/t /w/link; done) > /dev/null 2>&1 &"
                         " true")
    body = _tar(_entry("pwned"))
    seen: set[bytes | None] = set()
    deadline = time.monotonic() + 8
    rounds = 0
    while time.monotonic() < deadline and rounds < 150:
        rounds += 1
        data = _read(clients, name, "/w/t/secret")
        seen.add(data)
        assert data != SECRET.encode(), f"read the host's file in round {rounds}"
        clients.api("PUT", f"/containers/{name}/archive?path=/w/t", body=body)
        assert not (host / "pwned").exists(), f"wrote on the host in round {rounds}"
    assert sorted(p.name for p in host.iterdir()) == ["secret"]
    assert (host / "secret").read_text() == SECRET
