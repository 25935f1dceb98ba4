"""runtime.md: State, Lifecycle and Operations (create, start, state, kill, delete)."""

from __future__ import annotations

import os
import signal

from tests.runtime.conftest import OCI_VERSION, Runtime, container_cgroups


def test_state_after_create(rt: Runtime, bundle) -> None:
    """runtime.md State: "ociVersion (string, REQUIRED)", "id (string, REQUIRED)",
    "status ... created: the runtime has finished the create operation", "pid (int,
    REQUIRED when status is created or running on Linux)", "bundle (string, REQUIRED)
    is the absolute path to the container's bundle directory"."""
    b = bundle(["sleep", "1000"])
    rt.create(b)
    state = rt.state(b.cid)
    assert state["ociVersion"] and isinstance(state["ociVersion"], str)
    assert (state["id"], state["status"], state["pid"]) == (b.cid, "created", rt.pid(b))
    assert state["bundle"] == str(b.path)
    assert state.get("annotations") in (None, {})


def test_program_not_run_by_create(rt: Runtime, bundle) -> None:
    """runtime.md Lifecycle 2: "the user-specified program (from process) MUST NOT be run
    at this time"; Start: "This operation MUST run the user-specified program"."""
    b = bundle(["sh", "-c", "echo ran > /ran"])
    rt.create(b)
    assert not (b.rootfs / "ran").exists()
    rt("start", b.cid)
    assert rt.wait(rt.pid(b)) == 0
    assert (b.rootfs / "ran").read_text() == "ran\n"


def test_running_then_stopped(rt: Runtime, bundle) -> None:
    """runtime.md State: "running: the container process has executed the
    user-specified program but has not exited"; "stopped: the container process has
    exited"."""
    b = bundle(["sleep", "1000"])
    rt.create(b)
    rt("start", b.cid)
    pid = rt.pid(b)
    assert rt.state(b.cid)["status"] == "running"
    rt("kill", b.cid, "KILL")
    assert rt.wait(pid) == -signal.SIGKILL
    assert rt.state(b.cid)["status"] == "stopped"


def test_annotations_in_state(rt: Runtime, bundle) -> None:
    """runtime.md State: "annotations (map, OPTIONAL) contains the list of annotations
    associated with the container"."""
    b = bundle(["true"])
    b.config["annotations"] = {"org.example.key": "value"}
    rt.create(b)
    assert rt.state(b.cid)["annotations"] == {"org.example.key": "value"}


def test_state_of_unknown_container_fails(rt: Runtime) -> None:
    """runtime.md Query State: "Attempting to query a container that does not exist MUST
    generate an error"."""
    assert rt("state", "wbct-no-such-container", check=False).returncode != 0


def test_create_with_a_taken_id_fails(rt: Runtime, bundle) -> None:
    """runtime.md Create: "If the ID provided is not unique across all containers within
    the scope of the runtime ... a new container MUST NOT be created"."""
    b = bundle(["sleep", "1000"])
    rt.create(b)
    first = rt.pid(b)
    assert rt.create(b, check=False).returncode != 0
    assert rt.state(b.cid)["pid"] == first


def test_start_twice_fails(rt: Runtime, bundle) -> None:
    """runtime.md Start: "Attempting to start a container that is not created MUST have
    no effect on the container and MUST generate an error"."""
    b = bundle(["sleep", "1000"])
    rt.create(b)
    rt("start", b.cid)
    assert rt("start", b.cid, check=False).returncode != 0
    assert rt.state(b.cid)["status"] == "running"


def test_kill_sends_the_signal(rt: Runtime, bundle) -> None:
    """runtime.md Kill: "This operation MUST send the specified signal to the container
    process"."""
    b = bundle(["sh", "-c", "trap 'echo got-usr1; exit 4' USR1; echo ready > /ready; "
                "while :; do sleep 0.05; done"])
    rt.create(b)
    rt("start", b.cid)
    _wait_for(b.rootfs / "ready")
    rt("kill", b.cid, "USR1")
    assert rt.wait(rt.pid(b)) == 4
    assert b.output() == "got-usr1\n"


def test_kill_of_stopped_container_fails(rt: Runtime, bundle) -> None:
    """runtime.md Kill: "Attempting to send a signal to a container that is neither
    created nor running MUST have no effect on the container and MUST generate an
    error"."""
    b = bundle(["true"])
    code, _ = rt.run(b)
    assert code == 0
    assert rt("kill", b.cid, "KILL", check=False).returncode != 0
    assert rt.state(b.cid)["status"] == "stopped"


def test_delete_of_running_container_fails(rt: Runtime, bundle) -> None:
    """runtime.md Delete: "Attempting to delete a container that is not stopped MUST have
    no effect on the container and MUST generate an error"."""
    b = bundle(["sleep", "1000"])
    rt.create(b)
    rt("start", b.cid)
    assert rt("delete", b.cid, check=False).returncode != 0
    assert rt.state(b.cid)["status"] == "running"
    assert os.path.exists(f"/proc/{rt.pid(b)}")


def test_delete_removes_what_create_made(rt: Runtime, bundle) -> None:
    """runtime.md Delete: "Deleting a container MUST delete the resources that were
    created during the create step"; "Once a container is deleted its ID MAY be used by
    a subsequent container"."""
    b = bundle(["true"])
    code, _ = rt.run(b)
    assert code == 0
    assert container_cgroups(b.cid)
    rt("delete", b.cid)
    assert not container_cgroups(b.cid)
    assert rt("state", b.cid, check=False).returncode != 0
    code, _ = rt.run(b)  # the same id again
    assert code == 0


def test_config_changes_after_create_have_no_effect(rt: Runtime, bundle) -> None:
    """runtime.md Lifecycle 2: "Any updates to config.json after this step MUST NOT
    affect the container"."""
    b = bundle(["sh", "-c", "echo first"])
    rt.create(b)
    b.config["process"]["args"] = ["sh", "-c", "echo second"]
    b.write()
    rt("start", b.cid)
    assert rt.wait(rt.pid(b)) == 0
    assert b.output() == "first\n"


def test_version_in_state_is_a_spec_version(rt: Runtime, bundle) -> None:
    """runtime.md State: "ociVersion (string, REQUIRED) is version of the Open Container
    Initiative Runtime Specification with which the state complies"."""
    b = bundle(["true"])
    rt.create(b)
    major = rt.state(b.cid)["ociVersion"].split(".")[0]
    assert major == OCI_VERSION.split(".")[0]


def _wait_for(path, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)
