"""`-u` and the container's /etc/passwd and /etc/group: the image is the attacker.

The daemon reads both files from the container's rootfs at every start and exec, as root,
on the host. Each test loads an image whose files are hostile and runs it through the
docker CLI, on every engine and the reference.
"""

from __future__ import annotations

import pytest

from tests.behaviour.clients import Clients
from tests.images.tarballs import Entry, layer
from tests.security.hostile import load

# Docker 20.10 (the reference here) hangs on both: its daemon opens the FIFO and reads
# /dev/zero to the end. moby/sys/user now opens only regular files, at most 10 MiB, and
# reads any other file as no file at all: the rule these tests hold us to.
HANGS_DOCKER_20_10 = pytest.mark.ours_only(
    reason="dockerd 20.10 hangs reading a non-regular /etc/passwd or /etc/group")

PASSWD = "root:x:0:0:root:/root:/bin/sh\n"
# The ids from the kernel: busybox's `id` would read the hostile passwd itself (and a
# FIFO there would hang the container, as it would under Docker).
UID = ("awk", "/^Uid:/ { print $2 }", "/proc/self/status")
GID = ("awk", "/^Gid:/ { print $2 }", "/proc/self/status")


def etc(*entries: Entry) -> bytes:
    return layer(Entry("etc", "dir", mode=0o755), *entries)


def run(clients: Clients, *args: str) -> str:
    """`docker run --rm ARGS`; its output, after asserting it exited 0. The timeout is the
    test of the FIFO and the device: a daemon stuck on them never answers."""
    done = clients.docker("run", "--rm", *args, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_numeric_user_is_a_uid_even_when_a_user_has_that_name(hostile: Clients) -> None:
    """CVE-2016-3697: passwd names a user "1000" whose uid is 0; `-u 1000` is uid 1000."""
    image = load(hostile, "wb-hostile-users:numeric", etc(
        Entry("etc/passwd", data=(PASSWD + "1000:x:0:0:root:/root:/bin/sh\n").encode()),
        Entry("etc/group", data=b"root:x:0:\n1000:x:0:\n")))
    assert run(hostile, "-u", "1000", image, *UID) == "1000"
    assert run(hostile, "-u", "1000:1000", image, *GID) == "1000"
    assert run(hostile, "-u", "root:1000", image, *GID) == "1000"


@HANGS_DOCKER_20_10
def test_a_fifo_as_etc_passwd_does_not_hang_the_start(hostile: Clients) -> None:
    """Opening a FIFO for reading blocks until a writer comes: no daemon thread may wait
    on it. Docker reads it as no passwd at all: the container runs as root."""
    image = load(hostile, "wb-hostile-users:fifo", etc(Entry("etc/passwd", "fifo")))
    assert run(hostile, image, *UID) == "0"
    assert run(hostile, "-u", "1000", image, *UID) == "1000"


@HANGS_DOCKER_20_10
def test_a_device_as_etc_group_is_never_read(hostile: Clients) -> None:
    """/etc/group as /dev/zero (char 1,5): a read that never ends, in the daemon's memory."""
    image = load(hostile, "wb-hostile-users:zero", etc(
        Entry("etc/passwd", data=PASSWD.encode()),
        Entry("etc/group", "char", mode=0o644, major=1, minor=5)))
    assert run(hostile, image, *UID) == "0"
    assert run(hostile, "-u", "root", image, *UID) == "0"


def test_a_symlinked_etc_passwd_is_resolved_inside_the_rootfs(hostile: Clients) -> None:
    """passwd -> /etc/shadow, absolute and by `..`: the image's shadow, never the host's."""
    image = load(hostile, "wb-hostile-users:symlink", etc(
        Entry("etc/shadow", data=b"inside:x:4242:4242::/:/bin/sh\n"),
        Entry("etc/passwd", "symlink", link="/etc/shadow"),
        Entry("etc/group", "symlink", link="../../../../../../etc/shadow")))
    assert run(hostile, "-u", "inside", image, *UID) == "4242"
    assert run(hostile, "-u", "inside:inside", image, *GID) == "4242"
    refused = hostile.docker("run", "--rm", "-u", "root", image, "true", timeout=30)
    assert refused.returncode != 0  # the host's shadow has root; the image's has not
    assert "unable to find user root" in refused.stderr
