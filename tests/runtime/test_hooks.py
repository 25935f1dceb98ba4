"""config.md: POSIX-platform Hooks; runtime.md: Lifecycle steps 3-13.

Each hook is Debian's static busybox running a small script: it appends its name to
an order file and writes where it ran (its mount and pid namespaces), its args and
env, and the state it read on stdin to a file of its own. Host-side hooks write under
<bundle>/rootfs/tmp; startContainer, run in the container after pivot_root, reaches
the same directory as /tmp (and its path, /bin/busybox, is the container's).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

from tests.runtime.conftest import Bundle, Runtime, container_cgroups, xfail_on

BUSYBOX = "/bin/busybox"
RECORD = ('out=$1; { readlink /proc/self/ns/mnt; readlink /proc/self/ns/pid; '
          'echo "$0|$2|$FOO|$WBCT_RUNTIME_ENV"; cat; } > "$out/$0"; echo "$0" >> "$out/order"')
# A failing hook reads its stdin first: a hook that does not is allowed, but then the
# runtime's write of the state races the hook's exit (crun 1.8 dies of SIGPIPE).
FAIL = "cat > /dev/null; exit 3"
CREATE_HOOKS = ["prestart", "createRuntime", "createContainer"]


def hook(name: str, out: str, script: str = RECORD, **extra: Any) -> dict[str, Any]:
    """A hook named by its $0 (args: "the same semantics as execv's argv": argv[0] is
    busybox's applet, then the script's $0, $1...)."""
    return {"path": BUSYBOX, "args": ["sh", "-c", script, name, out, "an-arg"],
            "env": ["FOO=bar-" + name], **extra}


def recording_hooks(b: Bundle) -> None:
    host, inside = str(b.rootfs / "tmp"), "/tmp"
    b.config["hooks"] = {
        name: [hook(name, inside if name == "startContainer" else host)]
        for name in CREATE_HOOKS + ["startContainer", "poststart", "poststop"]}


class Record:
    def __init__(self, text: str) -> None:
        lines = text.split("\n", 3)
        self.mnt_ns, self.pid_ns = lines[0], lines[1]
        self.name, self.arg, self.foo, self.leaked = lines[2].split("|")
        self.state: dict[str, Any] = json.loads(lines[3])


def record(b: Bundle, name: str) -> Record:
    return Record((b.rootfs / "tmp" / name).read_text())


def order(b: Bundle) -> list[str]:
    path = b.rootfs / "tmp" / "order"
    return path.read_text().split() if path.exists() else []


def ns(pid: int | str, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


RUNC_POSTSTART_AT_CREATE = xfail_on("runc", "runc 1.1 runs poststart hooks at create, and "
                                    "so before startContainer")


@RUNC_POSTSTART_AT_CREATE
def test_create_hooks_run_in_order_and_place(rt: Runtime, bundle) -> None:
    """config.md Hooks: "Hooks MUST be called in the listed order"; "The prestart hooks
    MUST be executed in the runtime namespace"; "The createRuntime hooks MUST be
    executed in the runtime namespace"; "The createContainer hooks MUST be executed in
    the container namespace"; all three "MUST be called as part of the create
    operation"; runtime.md Lifecycle 2: the program "MUST NOT be run at this time"."""
    b = bundle(["sh", "-c", "echo program >> /tmp/order; sleep 1000"])
    recording_hooks(b)
    rt.create(b)
    assert order(b) == CREATE_HOOKS
    init = rt.pid(b)
    assert record(b, "prestart").mnt_ns == rt.runtime_mnt_ns()
    assert record(b, "createRuntime").mnt_ns == rt.runtime_mnt_ns()
    assert record(b, "createContainer").mnt_ns == ns(init, "mnt") != rt.runtime_mnt_ns()


def test_hooks_get_the_state_on_stdin(rt: Runtime, bundle) -> None:
    """config.md Hooks: "The state of the container MUST be passed to hooks over stdin";
    runtime.md State: "pid ... For hooks executed in the runtime namespace, it is the
    pid as seen by the runtime"; "bundle (string, REQUIRED) is the absolute path"."""
    b = bundle(["sleep", "1000"])
    recording_hooks(b)
    rt.create(b)
    for name in ("prestart", "createRuntime"):
        state = record(b, name).state
        assert (state["id"], state["pid"], state["bundle"]) == (b.cid, rt.pid(b), str(b.path))
        assert state["ociVersion"]
    assert record(b, "createContainer").state["id"] == b.cid


def test_hook_args_and_env(rt: Runtime, bundle) -> None:
    """config.md Hooks: "args (array of strings, OPTIONAL) with the same semantics as
    IEEE Std 1003.1-2008 execv's argv"; "env (array of strings, OPTIONAL) with the
    same semantics as IEEE Std 1003.1-2008's environ": the hook's environment is
    exactly env (nothing of the runtime's own environment)."""
    b = bundle(["true"])
    recording_hooks(b)
    rt.create(b)
    for name in CREATE_HOOKS:
        r = record(b, name)
        assert (r.name, r.arg, r.foo, r.leaked) == (name, "an-arg", "bar-" + name, "")


@RUNC_POSTSTART_AT_CREATE
@xfail_on("crun", "crun 1.8's start runs poststart hooks as soon as it releases init, "
          "racing startContainer and the program", strict=False)
def test_start_hooks(rt: Runtime, bundle) -> None:
    """config.md: "The startContainer hooks MUST be called before the user-specified
    process is executed as part of the start operation"; "The startContainer hooks'
    path MUST resolve in the container namespace" and they "MUST be executed in the
    container namespace"; "The poststart hooks MUST be called after the
    user-specified process is executed but before the start operation returns" and
    "MUST be executed in the runtime namespace"."""
    b = bundle(["sh", "-c", "echo program >> /tmp/order; sleep 1000"])
    recording_hooks(b)
    # The host has no /bin/busybox-only path: this one is the container's.
    b.config["hooks"]["startContainer"][0]["path"] = "/bin/sh"
    rt.create(b)
    init = rt.pid(b)
    rt("start", b.cid)
    assert "poststart" in order(b)  # before start returned
    _wait_until(lambda: "program" in order(b))
    seen = order(b)
    assert seen[:4] == CREATE_HOOKS + ["startContainer"], seen
    assert sorted(seen[4:]) == ["poststart", "program"]
    started = record(b, "startContainer")
    assert (started.mnt_ns, started.pid_ns) == (ns(init, "mnt"), ns(init, "pid"))
    post = record(b, "poststart")
    assert post.mnt_ns == rt.runtime_mnt_ns()
    assert post.pid_ns == ns("self", "pid")
    assert (post.state["id"], post.state["pid"]) == (b.cid, init)


def test_poststop_runs_at_delete(rt: Runtime, bundle) -> None:
    """config.md: "The poststop hooks MUST be called after the container is deleted but
    before the delete operation returns"; they "MUST be executed in the runtime
    namespace"."""
    b = bundle(["true"])
    recording_hooks(b)
    code, _ = rt.run(b)
    assert code == 0
    assert "poststop" not in order(b)
    rt("delete", b.cid)
    assert order(b)[-1] == "poststop"
    post = record(b, "poststop")
    assert post.mnt_ns == rt.runtime_mnt_ns()
    assert post.state["id"] == b.cid and post.state["bundle"] == str(b.path)


@xfail_on("crun", "crun 1.8 runs no poststop hook after a failed create")
@pytest.mark.parametrize("failing", CREATE_HOOKS)
def test_failing_create_hook_fails_create(rt: Runtime, bundle, failing: str) -> None:
    """runtime.md Lifecycle 3-5: "If any prestart (createRuntime, createContainer) hook
    fails, the runtime MUST generate an error, stop the container, and continue the
    lifecycle at step 12" (destroyed: no state, process or cgroup left) and 13: "The
    poststop hooks MUST be invoked by the runtime". The hooks between do not run."""
    b = bundle(["sh", "-c", "echo program >> /tmp/order"])
    recording_hooks(b)
    b.config["hooks"][failing].insert(0, hook(failing, str(b.rootfs / "tmp"), FAIL))
    r = rt.create(b, check=False)
    assert r.returncode != 0
    assert order(b) == CREATE_HOOKS[:CREATE_HOOKS.index(failing)] + ["poststop"]
    assert rt("state", b.cid, check=False).returncode != 0
    assert not container_cgroups(b.cid)
    for pid in list(rt.pids):
        assert rt.wait(pid, timeout=10) != 0


def test_failing_start_container_hook_stops_the_container(rt: Runtime, bundle) -> None:
    """runtime.md Lifecycle 7: "If any startContainer hook fails, the runtime MUST
    generate an error, stop the container": the program never runs, init fails."""
    b = bundle(["sh", "-c", "echo program >> /tmp/order"])
    b.config["hooks"] = {"startContainer": [hook("startContainer", "/tmp", FAIL)]}
    rt.create(b)
    rt("start", b.cid, check=False)
    assert rt.wait(rt.pid(b)) != 0
    assert "program" not in order(b)
    assert rt.state(b.cid)["status"] == "stopped"


@xfail_on("runc", "runc 1.1's start returns once init is released, before its hooks run")
@xfail_on("crun", "crun 1.8's start returns once init is released, before its hooks run")
def test_failing_start_container_hook_fails_start(rt: Runtime, bundle) -> None:
    """runtime.md Lifecycle 7: "If any startContainer hook fails, the runtime MUST
    generate an error": the start operation itself fails."""
    b = bundle(["sh", "-c", "echo program >> /tmp/order"])
    b.config["hooks"] = {"startContainer": [hook("startContainer", "/tmp", FAIL)]}
    rt.create(b)
    assert rt("start", b.cid, check=False).returncode != 0
    assert rt.wait(rt.pid(b)) != 0


def test_hook_timeout(rt: Runtime, bundle) -> None:
    """config.md Hooks: "timeout (int, OPTIONAL) is the number of seconds before aborting
    the hook": a createRuntime hook that outlives it fails create."""
    b = bundle(["true"])
    b.config["hooks"] = {"createRuntime": [hook("createRuntime", str(b.rootfs / "tmp"),
                                                "sleep 30", timeout=1)]}
    started = time.monotonic()
    assert rt.create(b, check=False).returncode != 0
    assert time.monotonic() - started < 10
    assert rt("state", b.cid, check=False).returncode != 0


@xfail_on("runc", "runc 1.1 runs poststart hooks at create: a failing one fails create")
@xfail_on("crun", "crun 1.8 logs no warning when a poststart hook fails")
def test_failing_poststart_hook_is_a_warning(rt: Runtime, bundle) -> None:
    """runtime.md Lifecycle 9: "If any poststart hook fails, the runtime MUST log a
    warning, but the remaining hooks and lifecycle continue as if the hook had
    succeeded"."""
    b = bundle(["sh", "-c", "echo program >> /tmp/order; sleep 1000"])
    tmp = str(b.rootfs / "tmp")
    b.config["hooks"] = {"poststart": [hook("poststart", tmp, FAIL),
                                       hook("poststart2", tmp)]}
    rt.create(b)
    r = rt("start", b.cid, check=False)
    assert r.returncode == 0, r.stderr
    assert "poststart2" in order(b)
    assert "warn" in r.stderr.lower()
    assert rt.state(b.cid)["status"] == "running"


@xfail_on("runc", "runc 1.1 stops at the first failing poststop hook")
@xfail_on("crun", "crun 1.8 logs no warning when a poststop hook fails")
def test_failing_poststop_hook_is_a_warning(rt: Runtime, bundle) -> None:
    """runtime.md Lifecycle 13: "If any poststop hook fails, the runtime MUST log a
    warning, but the remaining hooks and lifecycle continue as if the hook had
    succeeded"."""
    b = bundle(["true"])
    tmp = str(b.rootfs / "tmp")
    b.config["hooks"] = {"poststop": [hook("poststop", tmp, FAIL),
                                      hook("poststop2", tmp)]}
    code, _ = rt.run(b)
    assert code == 0
    r = rt("delete", b.cid, check=False)
    assert r.returncode == 0, r.stderr
    assert "poststop2" in order(b)
    assert "warn" in r.stderr.lower()
    assert rt("state", b.cid, check=False).returncode != 0


def _wait_until(condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
