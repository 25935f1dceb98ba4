"""config-linux.md: Namespaces (new, joined by path, inherited), and create's errors."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.runtime.conftest import Runtime, xfail_on

# spec type -> the name under /proc/<pid>/ns/ (and unshare(1)'s flag for a holder)
NS_FILES = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
            "cgroup": "cgroup"}
UNSHARE_FLAGS = {"pid": "--pid", "network": "--net", "ipc": "--ipc", "uts": "--uts",
                 "mount": "--mount", "cgroup": "--cgroup"}


def ns_of(pid: int | str, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{NS_FILES[kind]}")


@pytest.fixture
def holder() -> Iterator[int]:
    """A process in new namespaces of every type (its mounts slaves of the host's, so
    that the bundle is there): the pid of the one inside (unshare forks for --pid)."""
    flags = list(UNSHARE_FLAGS.values())
    p = subprocess.Popen(["unshare", *flags, "--fork", "--propagation", "slave",
                          "sleep", "600"])
    try:
        deadline = time.monotonic() + 10
        child = 0
        while not child:
            assert time.monotonic() < deadline, "unshare made no child"
            with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
                kids = f.read().split()
            child = int(kids[0]) if kids else 0
            if child and ns_of(child, "pid") == ns_of(p.pid, "pid"):
                child = 0  # not yet in its new namespaces
            time.sleep(0.01)
        yield child
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()


@pytest.mark.parametrize("kind", list(NS_FILES))
def test_namespace_joined_by_path(rt: Runtime, bundle, holder: int, kind: str) -> None:
    """config-linux.md Namespaces: "path (string, OPTIONAL) - namespace file ... The
    runtime MUST place the container process in the namespace associated with that
    path"."""
    b = bundle(["sleep", "1000"])
    for ns in b.linux["namespaces"]:
        if ns["type"] == kind:
            ns["path"] = f"/proc/{holder}/ns/{NS_FILES[kind]}"
    if not any(ns["type"] == kind for ns in b.linux["namespaces"]):
        b.linux["namespaces"].append({"type": kind,
                                      "path": f"/proc/{holder}/ns/{NS_FILES[kind]}"})
    rt.create(b)
    assert ns_of(rt.pid(b), kind) == ns_of(holder, kind)
    rt("start", b.cid)
    assert ns_of(rt.pid(b), kind) == ns_of(holder, kind)


@pytest.mark.parametrize("kind", list(NS_FILES))
def test_namespace_created_when_no_path(rt: Runtime, bundle, kind: str) -> None:
    """config-linux.md Namespaces: "If path is not specified, the runtime MUST create a
    new container namespace of type type"."""
    b = bundle(["sleep", "1000"])
    if kind == "cgroup":
        b.linux["namespaces"].append({"type": "cgroup"})
    rt.create(b)
    assert ns_of(rt.pid(b), kind) != ns_of("self", kind)


@pytest.mark.parametrize("kind", ["network", "ipc", "uts", "pid"])
def test_namespace_inherited_when_not_listed(rt: Runtime, bundle, kind: str) -> None:
    """config-linux.md Namespaces: "If a namespace type is not specified in the
    namespaces array, the container MUST inherit the runtime namespace of that type"."""
    b = bundle(["sleep", "1000"])
    b.linux["namespaces"] = [ns for ns in b.linux["namespaces"] if ns["type"] != kind]
    if kind == "uts":
        del b.config["hostname"]  # a hostname needs a UTS namespace of the container's
    rt.create(b)
    assert ns_of(rt.pid(b), kind) == ns_of("self", kind)


@xfail_on("crun", "crun 1.8 makes a mount namespace even when none is listed")
def test_no_mount_namespace(rt: Runtime, bundle, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """config-linux.md Namespaces: "If a namespace type is not specified in the
    namespaces array, the container MUST inherit the runtime namespace of that type":
    without "mount", the container shares the runtime's mount table and its root is
    the rootfs by chroot, as runc does. (Only /proc is mounted, no masked or read-only
    paths: runc refuses those without a mount namespace of the container's own.) Its
    mounts are made in the runtime's namespace, so the runtime runs in a mount
    namespace of its own here (a wrapper like crun's): the host's stays untouched."""
    b = bundle(["sh", "-c", "cat /etc/passwd; readlink /proc/self/ns/mnt"])
    b.namespaces("pid", "network", "ipc", "uts")
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] == "/proc"]
    del b.linux["maskedPaths"], b.linux["readonlyPaths"]
    rt.argv0 = str(private_mount_ns_wrapper(tmp_path, rt.argv0))
    rt.create(b)
    runtime_ns = rt.runtime_mnt_ns()
    assert ns_of(rt.pid(b), "mount") == runtime_ns
    rt("start", b.cid)
    assert rt.wait(rt.pid(b)) == 0, (b.path / "create.err").read_text()
    assert b.output().splitlines() == ["root:x:0:0:root:/root:/bin/sh", runtime_ns]


def private_mount_ns_wrapper(directory, argv0: str):  # type: ignore[no-untyped-def]
    """A wrapper running the runtime in a new mount namespace whose mounts are slaves of
    the host's; it records the namespace's id (Runtime.runtime_mnt_ns reads it)."""
    script = directory / "in-own-mount-ns"
    script.write_text(
        "#!/bin/sh\n"
        "exec unshare -m --propagation slave sh -c '"
        "readlink /proc/self/ns/mnt > \"$0.mntns\"; "
        f"exec {argv0} \"$@\"' \"{script}\" \"$@\"\n")
    script.chmod(0o755)
    return script


def test_path_of_another_type_fails(rt: Runtime, bundle) -> None:
    """config-linux.md Namespaces: "The runtime MUST generate an error if path is not
    associated with a namespace of type type"; runtime.md Errors: "generating an error
    MUST leave the state of the environment as if the operation were never
    attempted"."""
    b = bundle(["true"])
    for ns in b.linux["namespaces"]:
        if ns["type"] == "uts":
            ns["path"] = "/proc/self/ns/ipc"
    assert rt.create(b, check=False).returncode != 0
    assert rt("state", b.cid, check=False).returncode != 0


@xfail_on("crun", "crun 1.8 accepts a duplicated namespace type")
def test_duplicated_namespace_fails(rt: Runtime, bundle) -> None:
    """config-linux.md Namespaces: "If a namespaces field contains duplicated namespaces
    with same type, the runtime MUST generate an error"."""
    b = bundle(["true"])
    b.linux["namespaces"].append({"type": "uts"})
    assert rt.create(b, check=False).returncode != 0
    assert rt("state", b.cid, check=False).returncode != 0


def test_failed_init_fails_create(rt: Runtime, bundle) -> None:
    """runtime.md Lifecycle 2: "If the runtime is unable to create the environment
    specified in the config.json, it MUST generate an error"; Create: "a new container
    MUST NOT be created". (A namespace path that does not exist.)"""
    b = bundle(["true"])
    for ns in b.linux["namespaces"]:
        if ns["type"] == "mount":
            ns["path"] = "/proc/self/ns/no-such-namespace"
    r = rt.create(b, check=False)
    assert r.returncode != 0
    assert rt("state", b.cid, check=False).returncode != 0
