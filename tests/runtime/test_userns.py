"""config-linux.md: User namespace mappings (linux.uidMappings, linux.gidMappings),
and the container a user namespace makes: its mounts, its rootfs, its cgroup."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runtime.conftest import Bundle, Runtime, container_cgroups, xfail_on

HOST_ID = 100000  # the host uid (and gid) the container's root stands for
SIZE = 65536


def in_user_namespace(b: Bundle, *types: str) -> None:
    """Namespaces `types` plus a new user namespace mapping 0..65535 to 100000..."""
    b.namespaces(*types, "user")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": HOST_ID, "size": SIZE}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": HOST_ID, "size": SIZE}]


def host_ids(pid: int) -> tuple[int, int]:
    """The real uid and gid of a process as the host sees them."""
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    uid = re.search(r"^Uid:\s+(\d+)", status, re.M)
    gid = re.search(r"^Gid:\s+(\d+)", status, re.M)
    assert uid and gid
    return int(uid.group(1)), int(gid.group(1))


ALL = ("pid", "network", "ipc", "uts", "mount")


HOST_NODES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")


def owners() -> dict[str, tuple[int, int]]:
    return {p: (os.stat(p).st_uid, os.stat(p).st_gid) for p in HOST_NODES}


@pytest.fixture(autouse=True)
def host_devices_kept() -> Iterator[dict[str, tuple[int, int]]]:
    """crun 1.8.1 chowns the host's /dev/null to the mapped root (see
    test_host_device_nodes_untouched): whatever a test's runtime did, the host's
    nodes get their owners back."""
    before = owners()
    yield before
    for path, (uid, gid) in before.items():
        if (os.stat(path).st_uid, os.stat(path).st_gid) != (uid, gid):
            os.chown(path, uid, gid)


@pytest.fixture(scope="session")
def reachable_base() -> Iterator[Path]:
    """Where these tests' bundles live: the mapped root is nobody to the host, and must
    be able to walk down to its rootfs (runc and ours need it; crun opens the rootfs
    before it enters the user namespace). pytest's /tmp/pytest-of-root is 0700 (and
    any pytest session that starts resets it so), so the bundles are moved to a
    directory of their own, searchable by others."""
    base = Path(tempfile.mkdtemp(prefix="wbct-userns-", dir="/tmp"))
    base.chmod(0o711)
    yield base
    with open("/proc/self/mountinfo") as f:
        assert str(base) not in f.read(), "mounts left"
    shutil.rmtree(base)


@pytest.fixture
def ubundle(bundle, reachable_base: Path):  # type: ignore[no-untyped-def]
    """The harness's bundle(args), moved under reachable_base."""
    def make(args: list[str]) -> Bundle:
        b = bundle(args)
        home = Path(tempfile.mkdtemp(dir=reachable_base))  # ids repeat across tests
        home.chmod(0o711)
        moved = home / b.cid
        os.rename(b.path, moved)
        b.path = moved
        return b

    return make


def test_maps_are_written(rt: Runtime, ubundle) -> None:
    """config-linux.md: "uidMappings (array of objects, OPTIONAL) describes the user
    namespace uid mappings from the host to the container"; "containerID ... is the
    starting uid/gid in the container", "hostID ... is the starting uid/gid on the host
    to be mapped to containerID", "size ... is the number of ids to be mapped"."""
    b = ubundle(["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map"])
    in_user_namespace(b, *ALL)
    code, out = rt.run(b)
    assert code == 0
    assert [line.split() for line in out.splitlines()] == [["0", str(HOST_ID), str(SIZE)]] * 2


def test_container_root_is_the_mapped_host_id(rt: Runtime, ubundle) -> None:
    """config-linux.md: "hostID (uint32, REQUIRED) - is the starting uid/gid on the
    host to be mapped to containerID": the container's root (uid 0 inside) is uid
    100000 to the host."""
    b = ubundle(["sh", "-c", "id -u; id -g"])
    in_user_namespace(b, *ALL)
    rt.create(b)
    assert host_ids(rt.pid(b)) == (HOST_ID, HOST_ID)
    rt("start", b.cid)
    assert rt.wait(rt.pid(b)) == 0
    assert b.output() == "0\n0\n"


def test_a_user_inside_is_mapped_too(rt: Runtime, ubundle) -> None:
    """config.md User: "uid (int, REQUIRED) specifies the user ID in the container
    namespace"; with the mapping, uid 1000 inside is 101000 on the host."""
    b = ubundle(["sleep", "1000"])
    in_user_namespace(b, *ALL)
    b.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    rt.create(b)
    rt("start", b.cid)
    assert host_ids(rt.pid(b)) == (HOST_ID + 1000, HOST_ID + 1000)


def test_exec_joins_the_user_namespace(rt: Runtime, ubundle) -> None:
    """runtime.md Create: "The entity using a runtime to create a container MUST be able
    to use the operations defined in this specification against that same container"
    (exec among runc's): an exec'd process is in the container's user namespace, its
    root the mapped host uid."""
    b = ubundle(["sleep", "1000"])
    in_user_namespace(b, *ALL)
    rt.create(b)
    rt("start", b.cid)
    r = rt("exec", b.cid, "sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user")
    uid, mapping, ns = r.stdout.splitlines()
    assert uid == "0" and mapping.split() == ["0", str(HOST_ID), str(SIZE)]
    assert ns == os.readlink(f"/proc/{rt.pid(b)}/ns/user") != os.readlink("/proc/self/ns/user")


def test_rootfs_usable_by_the_mapped_root(rt: Runtime, ubundle) -> None:
    """config-linux.md: "The runtime SHOULD NOT modify the ownership of referenced
    filesystems to realize the mapping": a rootfs whose owner is the mapped root is
    its to write (and what it writes is the mapped host id's); one owned by host root
    is left as it is."""
    b = ubundle(["sh", "-c", "echo hi > /tmp/made && stat -c '%u %g' /tmp /bin/busybox"])
    in_user_namespace(b, *ALL)
    # Directories of the bundle are its own (files are hard links: not chowned).
    os.chown(b.rootfs / "tmp", HOST_ID, HOST_ID)
    before = os.stat(b.rootfs / "bin" / "busybox")
    code, out = rt.run(b)
    assert code == 0
    # Inside: the rootfs's /tmp is root's, busybox (host root's) is nobody's.
    assert out.split("\n")[:2] == ["0 0", "65534 65534"]
    made = os.stat(b.rootfs / "tmp" / "made")
    assert (made.st_uid, made.st_gid) == (HOST_ID, HOST_ID)
    after = os.stat(b.rootfs / "bin" / "busybox")
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid) == (0, 0)


def test_devpts_with_the_mapped_gid(rt: Runtime, ubundle) -> None:
    """config-linux.md Default Filesystems: "/dev/pts | devpts" SHOULD be made available;
    config.md mounts: the options (here `gid=5`) are the mount's: gid 5 of the
    container's user namespace is host gid 100005."""
    b = ubundle(["sleep", "1000"])
    in_user_namespace(b, *ALL)
    rt.create(b)
    with open(f"/proc/{rt.pid(b)}/mountinfo") as f:
        devpts = [line for line in f if " - devpts " in line]
    assert len(devpts) == 1 and " /dev/pts " in devpts[0]
    assert f"gid={HOST_ID + 5}" in devpts[0]  # the kernel shows ids as the host's


def test_proc_sys_mqueue_mounted_in_the_user_namespace(rt: Runtime, ubundle) -> None:
    """config-linux.md Default Filesystems: "/proc | proc", "/sys | sysfs" SHOULD be
    available; with network, pid and ipc namespaces of its own, the mapped root mounts
    them itself: /proc shows its own pid namespace."""
    b = ubundle(["sh", "-c", "grep -E ' /(proc|sys|dev/mqueue) ' /proc/self/mountinfo"
                " | cut -d' ' -f5,9; echo pid=$$; ls /sys/class/net"])
    in_user_namespace(b, *ALL)
    code, out = rt.run(b)
    assert code == 0
    assert {"/proc proc", "/sys sysfs", "/dev/mqueue mqueue"} <= set(out.splitlines())
    assert "pid=1" in out.splitlines()
    assert "lo" in out.split()  # the container's own network devices


@xfail_on("runc", "runc 1.1.5 mounts sysfs in a user namespace without a network "
                  "namespace of its own, which the kernel refuses (EPERM)")
def test_sysfs_without_network_namespace(rt: Runtime, ubundle) -> None:
    """config-linux.md Default Filesystems: "/sys | sysfs" SHOULD be made available in
    each container's filesystem; runtime.md Create: "If the runtime cannot apply a
    property as specified ... it MUST generate an error": either way, create must not
    half-succeed. Here the host's /sys, read-only, as crun and Docker bind it."""
    b = ubundle(["sh", "-c", "ls /sys/kernel | grep -q . && echo sys-ok; "
                "grep ' /sys ' /proc/self/mountinfo | tail -1 | cut -d' ' -f6 | cut -d, -f1"])
    in_user_namespace(b, "pid", "ipc", "uts", "mount")
    code, out = rt.run(b)
    assert code == 0
    assert out.splitlines() == ["sys-ok", "ro"]  # the top mount on /sys: the spec says "ro"


def test_cgroup_limits_set_from_the_host(rt: Runtime, ubundle) -> None:
    """config-linux.md Control groups: "You can configure a container's cgroups via the
    resources field"; the limits hold in a user namespace too (the host writes them)."""
    b = ubundle(["sh", "-c", "cat /sys/fs/cgroup/pids/pids.max"])
    in_user_namespace(b, *ALL)
    b.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                               "source": "cgroup",
                               "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
    b.linux["resources"]["pids"] = {"limit": 42}
    rt.create(b)
    [pids] = [d for d in container_cgroups(b.cid) if "/pids/" in d]
    assert Path(pids, "pids.max").read_text() == "42\n"
    rt("start", b.cid)
    assert rt.wait(rt.pid(b)) == 0
    assert b.output() == "42\n"


def test_unreachable_rootfs_fails_create(rt: Runtime, ubundle) -> None:
    """runtime.md Create: "If the runtime cannot apply a property as specified in the
    configuration, it MUST generate an error and a new container MUST NOT be created":
    a rootfs the mapped root cannot reach (a directory on the way without search
    permission for it)."""
    b = ubundle(["true"])
    in_user_namespace(b, *ALL)
    b.path.chmod(0o700)
    assert rt.create(b, check=False).returncode != 0
    assert rt("state", b.cid, check=False).returncode != 0


@xfail_on("crun", "crun 1.8.1 chowns the host's /dev/null to the mapped root")
def test_host_device_nodes_untouched(rt: Runtime, ubundle,
                                     host_devices_kept: dict[str, tuple[int, int]]) -> None:
    """config-linux.md: "The runtime SHOULD NOT modify the ownership of referenced
    filesystems to realize the mapping"; runtime.md Delete: "resources associated with
    the container, but not created by this container, MUST NOT be deleted" (nor, a
    fortiori, given away): the host's device nodes the container's /dev is made from
    keep their owner."""
    b = ubundle(["true"])
    in_user_namespace(b, *ALL)
    code, _ = rt.run(b)
    assert code == 0
    assert owners() == host_devices_kept


@xfail_on("runc", "runc 1.1.5 ignores mappings when there is no user namespace")
@xfail_on("crun", "crun 1.8.1 ignores mappings when there is no user namespace")
def test_mappings_without_user_namespace_fail(rt: Runtime, ubundle) -> None:
    """config.md Valid values: "Runtimes MUST generate an error when invalid or
    unsupported values are encountered": mappings for a user namespace the config does
    not make; runtime.md Errors: nothing is left (the harness checks)."""
    b = ubundle(["true"])
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": HOST_ID, "size": SIZE}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": HOST_ID, "size": SIZE}]
    assert rt.create(b, check=False).returncode != 0
    assert rt("state", b.cid, check=False).returncode != 0
