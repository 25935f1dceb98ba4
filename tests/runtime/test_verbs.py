"""runtime.md State, as schema/state-schema.json words it, and each verb's exit status
held against Debian's runc on the same bundle (the spec names no statuses; callers
such as containerd's go-runc read runc's)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.runtime.conftest import RUNTIME_NAME, Runtime, xfail_on

REAL_RUNC = "/usr/sbin/runc"


def check_state(state: dict, status: str) -> None:
    """schema/state-schema.json: required ociVersion, id, status, bundle (strings);
    pid an integer >= 0; annotations a map of strings."""
    for key in ("ociVersion", "id", "status", "bundle"):
        assert isinstance(state.get(key), str), key
    assert state["status"] == status
    assert isinstance(state.get("pid"), int) and state["pid"] >= 0
    for key, value in (state.get("annotations") or {}).items():
        assert isinstance(key, str) and key and isinstance(value, str)


def test_state_follows_the_schema_through_the_lifecycle(rt: Runtime, bundle) -> None:
    """runtime.md State: "When serialized in JSON, the format MUST adhere to the JSON
    Schema schema/state-schema.json"; "pid (int, REQUIRED when status is created or
    running on Linux) is the ID of the container process"; "bundle ... the absolute
    path to the container's bundle directory"."""
    b = bundle(["sleep", "1000"])
    b.config["annotations"] = {"com.example.key": "value", "com.example.empty": ""}
    rt.create(b)
    state = rt.state(b.cid)
    check_state(state, "created")
    assert state["pid"] == rt.pid(b) and state["bundle"] == str(b.path)
    assert state["annotations"] == b.config["annotations"]
    rt("start", b.cid)
    check_state(rt.state(b.cid), "running")
    rt("kill", b.cid, "KILL")
    rt.wait(rt.pid(b))
    check_state(rt.state(b.cid), "stopped")


# ------------------------------------------------------------ exit statuses, as runc's


class Both:
    """The runtime under test and Debian's runc, each with its own state root, run on
    the same bundles; `do(scenario)` -> (ours, runc's) exit status of its last call."""

    def __init__(self, rt: Runtime, tmp_path: Path) -> None:
        self.rt = rt
        self.runc = Runtime(REAL_RUNC, tmp_path / "runc-state")

    def do(self, scenario: Callable[[Runtime], int]) -> tuple[int, int]:
        return scenario(self.rt), scenario(self.runc)


@pytest.fixture
def both(rt: Runtime, tmp_path: Path):  # type: ignore[no-untyped-def]
    b = Both(rt, tmp_path)
    yield b
    b.runc.cleanup()


UNKNOWN_ID = [("state",), ("start",), ("kill", "KILL"), ("delete",), ("pause",),
              ("resume",), ("ps",), ("exec", "true")]


@pytest.mark.parametrize("call", UNKNOWN_ID, ids=lambda c: c[0])
def test_unknown_id_status_as_runc(both: Both, call: tuple[str, ...]) -> None:
    """runtime.md Query State: "Attempting to query a container that does not exist MUST
    generate an error" (and so for start, kill, delete): with runc's status (1, and
    255 for exec)."""
    verb, *rest = call
    if verb == "exec" and RUNTIME_NAME == "crun":
        pytest.xfail("crun 1.8.1 exits 1 for an exec into an unknown container, runc 255")
    if verb == "ps" and RUNTIME_NAME == "crun":
        pytest.xfail("crun 1.8.1 exits 253 for ps of an unknown container, runc 1")
    ours, theirs = both.do(lambda r: r(verb, "wbct-nosuch", *rest, check=False).returncode)
    assert ours == theirs != 0


def test_delete_force_of_unknown_id_as_runc(both: Both) -> None:
    """runtime.md Delete; `delete --force` of a container that is not there is not an
    error to runc (exit 0): it is gone either way."""
    ours, theirs = both.do(lambda r: r("delete", "--force", "wbct-nosuch",
                                       check=False).returncode)
    assert ours == theirs == 0


def test_lifecycle_errors_status_as_runc(both: Both, bundle) -> None:
    """runtime.md Start: "Attempting to start a container that is not created MUST ...
    generate an error"; Delete: "Attempting to delete a container that is not stopped
    MUST ... generate an error"; Kill: a container "neither created nor running" MUST
    generate an error; Create: a taken id MUST generate an error. Each with runc's
    status."""
    def scenario(r: Runtime) -> int:
        b = bundle(["sleep", "1000"])
        r.create(b)
        r("start", b.cid)
        codes = [r("start", b.cid, check=False).returncode,
                 r("delete", b.cid, check=False).returncode,
                 r.create(b, check=False).returncode]
        r("kill", b.cid, "KILL")
        r.wait(r.pid(b))
        codes.append(r("kill", b.cid, "KILL", check=False).returncode)
        codes.append(r("delete", b.cid, check=False).returncode)  # stopped: fine
        return int("".join(str(c) for c in codes))

    ours, theirs = both.do(scenario)
    assert ours == theirs == 11110


def test_failed_exec_status_as_runc(both: Both, bundle) -> None:
    """An exec whose program is missing: runc's exec.go exits 255 (fatalWithCode), so a
    caller tells it from the program's own status."""
    def scenario(r: Runtime) -> int:
        b = bundle(["sleep", "1000"])
        r.create(b)
        r("start", b.cid)
        return r("exec", b.cid, "/no/such/program", check=False).returncode

    ours, theirs = both.do(scenario)
    assert ours == theirs == 255


def test_exec_passes_the_programs_status_as_runc(both: Both, bundle) -> None:
    """runc exec in the foreground exits with the program's status."""
    def scenario(r: Runtime) -> int:
        b = bundle(["sleep", "1000"])
        r.create(b)
        r("start", b.cid)
        return r("exec", b.cid, "sh", "-c", "exit 7", check=False).returncode

    ours, theirs = both.do(scenario)
    assert ours == theirs == 7


@xfail_on("crun", "crun 1.8.1 exits 1 for an unknown command (urfave/cli's 3 in runc)")
def test_unknown_verb_status_as_runc(both: Both) -> None:
    """An unknown command: urfave/cli's status 3 in runc."""
    ours, theirs = both.do(lambda r: r("frobnicate", check=False).returncode)
    assert ours == theirs == 3


def test_runc_is_here() -> None:
    assert subprocess.run([REAL_RUNC, "--version"], capture_output=True).returncode == 0


@xfail_on("crun", "crun 1.8.1 has no features command")
def test_features(rt: Runtime) -> None:
    """features.md: "ociVersionMin (string, REQUIRED) The minimum recognized version",
    "ociVersionMax (string, REQUIRED) The maximum recognized version"; "hooks (array of
    strings, OPTIONAL) The list of the recognized hook names"; linux.namespaces "The
    list of the recognized namespaces"."""
    r = rt("features", check=False)
    assert r.returncode == 0
    features = json.loads(r.stdout)
    assert isinstance(features["ociVersionMin"], str)
    assert isinstance(features["ociVersionMax"], str)
    assert {"prestart", "poststart", "poststop"} <= set(features.get("hooks", []))
    assert {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"} <= \
        set(features["linux"]["namespaces"])
