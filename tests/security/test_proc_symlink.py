"""/proc or /sys as a symlink in an image: the runtime must not mount through it.

CVE-2019-19921: runc mounted procfs on whatever /proc resolved to; an image (or a
volume shared with another container, racing) whose /proc is a symlink had procfs
mounted elsewhere, where the masks and read-only paths meant for /proc were not. runc
since refuses proc and sysfs on anything but an ordinary directory ("must be mounted on
ordinary directory"), and mounts through a descriptor opened inside the rootfs, never a
path resolved again later (the class of CVE-2021-30465). So do stages 2 to 4: the
container does not start, and says why in runc's words; stage 1's LXC refuses too.

Docker never gets as far as runc's check: dockerd puts an "init layer" between the
image and the container's own layer, holding the directories and files it mounts on
(/proc, /sys, /dev, /etc/hosts...), and its /proc directory hides the image's symlink.
There the container runs, with procfs on a real /proc and the image's /etc untouched;
the test holds the reference to that. Both answers keep procfs where it belongs.
"""

from __future__ import annotations

import pytest

from tests.behaviour.clients import Clients
from tests.images.tarballs import Entry, layer
from tests.security.hostile import load

CASES = {
    "proc-etc": layer(Entry("proc", "symlink", link="/etc")),
    # a directory the image controls, with a file procfs would have hidden
    "proc-own": layer(Entry("fakeproc", "dir", mode=0o755),
                      Entry("fakeproc/marker", data=b"the image's\n"),
                      Entry("proc", "symlink", link="/fakeproc")),
    "sys-etc": layer(Entry("sys", "symlink", link="/etc")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_proc_or_sys_as_a_symlink_is_refused(hostile: Clients, case: str) -> None:
    image = load(hostile, f"wb-hostile-procfs:{case}", CASES[case])
    done = hostile.docker("run", "--rm", image, "sh", "-c",
                          "cat /etc/passwd /fakeproc/marker; ls /proc/self/ns", timeout=60)
    if not hostile.engine.ours:  # the init layer's /proc and /sys hide the symlinks
        assert done.returncode == 0, done.stderr
        assert "root:x:0:0" in done.stdout  # /etc is the image's, no procfs over it
        assert "pid_for_children" in done.stdout  # and procfs is on /proc
        if case == "proc-own":
            assert "the image's" in done.stdout
        return
    if hostile.engine.name == "stage1":
        # LXC mounts its own proc and sysfs (lxc.mount.auto) and refuses a symlink as
        # their mount point: the same answer as Docker's, in LXC's words.
        assert done.returncode != 0, done.stdout
        return
    assert done.returncode != 0, done.stdout
    kind = "proc" if case.startswith("proc") else "sysfs"
    assert "must be mounted on ordinary directory" in done.stderr, done.stderr
    assert kind in done.stderr
