"""A value that would become a key: stage 1's LXC config, written as `key = value` lines.

A newline in an env value, the working directory or the hostname would end its line,
and what follows would be read by LXC as a key: here an `lxc.mount.entry` binding a
host directory (made by the test, holding one file) into the container. An image
chooses its Env and WorkingDir, so a user only has to run it. Docker accepts all of
these (any env value without NUL; a working directory or hostname with a newline), so
the expectation on every engine is Docker's: the container gets its exact environment
and never the host's file. Stage 1 cannot hold a newline in its working directory or
hostname: it refuses them with an error naming the LXC key (lxc_config.line).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.behaviour.clients import Clients
from tests.security.hostile import load

# sh as pid 1: /proc/1/environ is what the engine gave the container, byte for byte.
REPORT = ("sh", "-c", "cat /proc/1/environ; [ -e /mnt/leak/host-file ] && echo LEAKED; true")


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A host directory with one file, under a short name (a hostname holds 64 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="wb-", dir="/tmp"))
    (path / "host-file").write_text("the host's\n")
    yield path
    shutil.rmtree(path)


def injection(host_dir: Path) -> str:
    return f"\nlxc.mount.entry = {host_dir} mnt/leak none bind,create=dir 0 0"


def environ(stdout: bytes) -> list[bytes]:
    """The container's environment entries, and nothing of the host's file seen."""
    *entries, tail = stdout.split(b"\0")
    assert b"LEAKED" not in tail
    return entries


def test_an_env_value_from_the_request_stays_one_variable(hostile: Clients,
                                                           host_dir: Path) -> None:
    value = "X=a" + injection(host_dir)
    done = hostile.docker("run", "--rm", "-e", value, "busybox", *REPORT, binary=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    entries = environ(done.stdout)
    assert value.encode() in entries
    assert not [e for e in entries if e.startswith(b"lxc.")]


def test_an_env_value_from_the_image_stays_one_variable(hostile: Clients,
                                                         host_dir: Path) -> None:
    env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "Y=b" + injection(host_dir), "Z=last"]
    image = load(hostile, "wb-hostile-inject:env", config={"Env": env})
    done = hostile.docker("run", "--rm", image, *REPORT, binary=True, timeout=60)
    assert done.returncode == 0, done.stderr
    entries = environ(done.stdout)
    found = [e for e in entries if e.split(b"=", 1)[0] in (b"PATH", b"Y", b"Z")]
    assert found == [e.encode() for e in env]  # byte-exact, in the image's order


def test_a_working_directory_never_becomes_a_key(hostile: Clients, host_dir: Path) -> None:
    workdir = "/w" + injection(host_dir)
    image = load(hostile, "wb-hostile-inject:workdir", config={"WorkingDir": workdir})
    done = hostile.docker("run", "--rm", image, *REPORT, binary=True, timeout=60)
    if hostile.engine.name == "stage1":
        assert done.returncode != 0
        assert b"lxc.init.cwd" in done.stderr  # refused, naming the key
    else:
        assert done.returncode == 0, done.stderr
        environ(done.stdout)
        pwd = hostile.docker("run", "--rm", image, "pwd", timeout=60)
        assert pwd.stdout == workdir + "\n"


def test_a_hostname_never_becomes_a_key(hostile: Clients, host_dir: Path) -> None:
    hostname = "h" + injection(host_dir).replace(" = ", "=").replace(",create=dir", "")
    assert len(hostname) <= 64, hostname
    done = hostile.docker("run", "--rm", "-h", hostname, "busybox", *REPORT, binary=True,
                          timeout=60)
    if hostile.engine.name == "stage1":
        assert done.returncode != 0
        assert b"lxc.uts.name" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
        environ(done.stdout)


def test_a_hostname_longer_than_the_kernel_allows_is_refused_at_create(
        hostile: Clients) -> None:
    """dockerd's own check (since 29.7; 20.10 fails at start, in runc's sethostname)."""
    done = hostile.docker("create", "-h", "a" * 65, "busybox", timeout=60)
    if hostile.engine.ours:
        assert done.returncode != 0
        assert "is too long (maximum 64 bytes)" in done.stderr
    else:
        if done.returncode == 0:
            hostile.docker("rm", done.stdout.strip())
        started = hostile.docker("run", "--rm", "-h", "a" * 65, "busybox", "true",
                                 timeout=60)
        assert started.returncode != 0
