"""config-linux.md: Rootfs Mount Propagation (linux.rootfsPropagation).

Each check reads the container's own /proc/self/mountinfo: the line of its "/" says
the root mount's propagation in its optional fields (proc(5)): `shared:N` (a member
of peer group N), `master:N` (a slave of peer group N), `unbindable`, or none
(private).

The rootfs is a mount point of its own in a peer group of its own, as a runtime
caller's is (containerd mounts an overlay there): with a plain directory, the runtime
must make the mount that holds it private (pivot_root refuses a shared parent), and
there would be no host peer group to be a slave of.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.runtime.conftest import Bundle, Runtime, xfail_on

# runc 1.1's prepareRoot makes the mount holding the rootfs private and binds the
# rootfs from it, before pivot_root: whatever rootfsPropagation says, the root ends
# up private, and unbindable cannot be bound at all (EINVAL).
RUNC_ROOT_PRIVATE = xfail_on("runc", "runc 1.1 binds the rootfs from a mount it made "
                             "private: the root is always private")
RUNC_UNBINDABLE = xfail_on("runc", "runc 1.1 makes / unbindable, then cannot bind the rootfs "
                           "from it (EINVAL)")
CRUN_NO_MASTER = xfail_on("crun", "crun 1.8 leaves the root private for slave: no master "
                          "peer group (the wrapper's namespace has it: checked by hand)")

ROOT_LINE = "awk '$5 == \"/\"' /proc/self/mountinfo"


def shared_rootfs(rt: Runtime, b: Bundle) -> int:
    """Bind the rootfs onto itself on the host, shared: its peer group's number."""
    rt.mount_on_host(b.rootfs, b.rootfs, "--bind")
    subprocess.run(["mount", "--make-shared", str(b.rootfs)], check=True)
    with open("/proc/self/mountinfo") as f:
        line = [x for x in f if x.split()[4] == str(b.rootfs)][-1]
    match = re.search(r" shared:(\d+) ", line)
    assert match, line
    return int(match.group(1))


def root_fields(out: str) -> set[str]:
    """The propagation fields of the "/" line: between field 7 and the "-"."""
    fields = out.split()
    return {f.split(":")[0] for f in fields[6:fields.index("-")]}


@pytest.mark.parametrize("propagation, fields", [
    pytest.param("shared", {"shared"}, marks=RUNC_ROOT_PRIVATE),
    pytest.param("slave", {"master"}, marks=[RUNC_ROOT_PRIVATE, CRUN_NO_MASTER]),
    ("private", set()),
    pytest.param("unbindable", {"unbindable"}, marks=RUNC_UNBINDABLE),
])
def test_rootfs_propagation(rt: Runtime, bundle, propagation: str, fields: set[str]) -> None:
    """config-linux.md rootfsPropagation: "Its value is either shared, slave, private or
    unbindable": "shared: the rootfs mount belongs to a new peer group"; "slave: the
    rootfs mount receives propagation events from the host ... but not the other way
    around"; "private: the rootfs mount doesn't receive mount propagation events";
    "unbindable: the rootfs mount is a private mount that cannot be bind-mounted"."""
    b = bundle(["sh", "-c", ROOT_LINE])
    b.linux["rootfsPropagation"] = propagation
    shared_rootfs(rt, b)
    code, out = rt.run(b)
    assert code == 0, (b.path / "create.err").read_text()
    assert len(out.splitlines()) == 1, out
    assert root_fields(out) == fields


@RUNC_UNBINDABLE
def test_rootfs_propagation_unbindable_refuses_a_bind(rt: Runtime, bundle) -> None:
    """config-linux.md rootfsPropagation: "unbindable: the rootfs mount is a private
    mount that cannot be bind-mounted"."""
    b = bundle(["sh", "-c", "mkdir -p /mnt/x; mount --bind / /mnt/x 2>/dev/null "
                "&& echo bound || echo refused"])
    b.linux["rootfsPropagation"] = "unbindable"
    shared_rootfs(rt, b)
    for kind in ("bounding", "effective", "permitted"):
        b.config["process"]["capabilities"][kind].append("CAP_SYS_ADMIN")
    code, out = rt.run(b)
    assert (code, out) == (0, "refused\n")


@RUNC_ROOT_PRIVATE
def test_rootfs_propagation_shared_is_a_new_peer_group(rt: Runtime, bundle) -> None:
    """config-linux.md rootfsPropagation: "shared: the rootfs mount belongs to a new peer
    group"."""
    b = bundle(["sh", "-c", ROOT_LINE])
    b.linux["rootfsPropagation"] = "shared"
    host_group = shared_rootfs(rt, b)
    code, out = rt.run(b)
    assert code == 0, (b.path / "create.err").read_text()
    assert f" shared:{host_group} " not in out and " shared:" in out, out


@RUNC_ROOT_PRIVATE
@CRUN_NO_MASTER
def test_rootfs_propagation_slave_receives_host_mounts(rt: Runtime, bundle) -> None:
    """config-linux.md rootfsPropagation: "slave: the rootfs mount receives propagation
    events from the host (e.g. if something is mounted on the host it will also appear
    in the container) but not the other way around"."""
    b = bundle(["sh", "-c", "for i in $(seq 100); do [ -e /mnt/from-host ] && break; "
                "sleep 0.05; done; [ -e /mnt/from-host ] && echo seen; "
                "mount -t tmpfs tmpfs /opt && touch /opt/from-container"])
    (b.rootfs / "mnt").mkdir()
    (b.rootfs / "opt").mkdir()
    b.linux["rootfsPropagation"] = "slave"
    for kind in ("bounding", "effective", "permitted"):
        b.config["process"]["capabilities"][kind].append("CAP_SYS_ADMIN")
    shared_rootfs(rt, b)
    rt.create(b)
    rt("start", b.cid)
    rt.mount_on_host("tmpfs", b.rootfs / "mnt", "-t", "tmpfs")
    (b.rootfs / "mnt" / "from-host").touch()
    assert rt.wait(rt.pid(b)) == 0, (b.path / "create.err").read_text()
    assert b.output() == "seen\n"
    assert not (b.rootfs / "opt" / "from-container").exists()


@RUNC_ROOT_PRIVATE
def test_rootfs_propagation_shared_with_a_shared_parent(rt: Runtime, bundle) -> None:
    """config-linux.md rootfsPropagation: "shared: the rootfs mount belongs to a new peer
    group", with the rootfs a plain directory on a shared mount (the bundle's): the
    mount pivot_root must not see as a shared parent."""
    b = bundle(["sh", "-c", ROOT_LINE])
    b.linux["rootfsPropagation"] = "shared"
    rt.mount_on_host(b.path, b.path, "--bind")
    subprocess.run(["mount", "--make-shared", str(b.path)], check=True)
    code, out = rt.run(b)
    assert code == 0, (b.path / "create.err").read_text()
    assert root_fields(out) == {"shared"}, out
