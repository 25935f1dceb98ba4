"""`--restart`: the daemon starts a container again when it exits, by its policy, with
dockerd's back-off; a `docker stop` ends it for good. Checked by polling the state
(and RestartCount) with deadlines, on every stage and on the reference."""

from __future__ import annotations

import pytest


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_on_failure_n_restarts_a_failing_container_n_times_then_leaves_it(
        cli, clients) -> None:
    name = clients.name()  # run by the docker CLI and by ours
    ok(cli("run", "-d", "--name", name, "--restart", "on-failure:2", "busybox", "false"))
    # Back-off 100 ms then 200 ms: well within the deadline.
    state = clients.wait_until(
        lambda: (s := clients.inspect(name))["RestartCount"] == 2
        and s["State"]["Status"] == "exited" and s, what="two restarts, then exited")
    assert state["State"]["ExitCode"] == 1
    assert state["HostConfig"]["RestartPolicy"] == {"Name": "on-failure",
                                                    "MaximumRetryCount": 2}
    assert ok(clients.docker("wait", name)) == "1\n"


def test_on_failure_leaves_a_successful_exit_alone(clients) -> None:
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "--restart", "on-failure", "busybox",
                      "true"))
    assert ok(clients.docker("wait", name)) == "0\n"
    assert clients.inspect(name)["RestartCount"] == 0


def test_always_restarts_an_exiting_container_until_docker_stop(clients) -> None:
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "--restart", "always", "busybox",
                      "sh", "-c", "sleep 0.3"))
    clients.wait_until(lambda: clients.inspect(name)["RestartCount"] >= 2,
                       what="RestartCount to grow")
    ok(clients.docker("stop", "-t", "1", name))
    state = clients.inspect(name)
    assert state["State"]["Status"] == "exited"
    count = state["RestartCount"]
    # Stopped for good: well past the back-off (a few hundred ms by now), still down.
    with pytest.raises(AssertionError, match="timed out"):
        clients.wait_until(lambda: clients.inspect(name)["State"]["Status"] != "exited",
                           timeout=2, what="no restart")
    assert clients.inspect(name)["RestartCount"] == count


def test_docker_start_resets_the_restart_count(clients) -> None:
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "--restart", "on-failure:1",
                      "busybox", "false"))
    clients.wait_until(lambda: (s := clients.inspect(name))["RestartCount"] == 1
                       and s["State"]["Status"] == "exited", what="one restart")
    ok(clients.docker("start", name))
    clients.wait_until(lambda: (s := clients.inspect(name))["RestartCount"] == 1
                       and s["State"]["Status"] == "exited", what="one restart again")


@pytest.mark.parametrize(("policy", "message"), [
    ({"Name": "on-failure", "MaximumRetryCount": -1},
     "maximum retry count cannot be negative"),
    ({"Name": "always", "MaximumRetryCount": 2},
     "maximum retry count cannot be used with restart policy 'always'"),
    ({"Name": "sometimes"}, "invalid restart policy 'sometimes'"),
])
def test_bad_policies_are_refused(clients, policy: dict, message: str) -> None:
    before = clients.container_ids()
    reply = clients.api("POST", "/containers/create", {
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"RestartPolicy": policy}})
    assert (reply.status, reply.message) == (400, message)
    assert clients.container_ids() == before


def test_auto_remove_with_a_restart_policy_is_refused(clients) -> None:
    reply = clients.api("POST", "/containers/create", {
        "Image": "busybox", "Cmd": ["true"],
        "HostConfig": {"AutoRemove": True, "RestartPolicy": {"Name": "always"}}})
    assert reply.status == 400
    assert "can't create 'AutoRemove' container with restart policy" in reply.message


def test_unless_stopped_restarts_by_itself_not_after_docker_kill(clients) -> None:
    name = clients.name()
    # Its first run fails; the restarted one (same filesystem) stays up.
    ok(clients.docker("run", "-d", "--name", name, "--restart", "unless-stopped",
                      "busybox", "sh", "-c",
                      "if [ -e /ran ]; then exec sleep 300; fi; touch /ran; exit 3"))
    # Running is true while it waits to restart too (as dockerd's): not Restarting.
    clients.wait_until(lambda: (s := clients.inspect(name))["RestartCount"] == 1
                       and s["State"]["Running"] and not s["State"]["Restarting"],
                       what="running again")
    ok(clients.docker("kill", name))
    state = clients.inspect(name)
    assert (state["State"]["Status"], state["State"]["ExitCode"]) == ("exited", 137)
    with pytest.raises(AssertionError, match="timed out"):
        clients.wait_until(lambda: clients.inspect(name)["State"]["Status"] != "exited",
                           timeout=1.5, what="no restart")


def test_a_restarting_container_is_listed_by_ps(clients) -> None:
    """Between an exit and its restart a container is "restarting", and counts as
    running for `docker ps` (its back-off grows past a second after a few exits)."""
    name = clients.name()
    ok(clients.docker("run", "-d", "--name", name, "--restart", "always", "busybox",
                      "false"))
    clients.wait_until(lambda: clients.inspect(name)["State"]["Restarting"],
                       what="restarting")
    listed = ok(clients.docker("ps", "--filter", f"name={name}", "--format",
                               "{{.Names}} {{.Status}}"))
    assert listed.startswith(f"{name} ")
    if clients.inspect(name)["State"]["Restarting"]:  # still (its back-off is long now)
        reply = clients.api("POST", f"/containers/{name}/exec", {"Cmd": ["true"]})
        assert reply.status in (409, 201), reply.body
        if reply.status == 409:
            assert reply.message.endswith("is restarting, wait until the container is "
                                          "running")
    ok(clients.docker("stop", name))
    state = clients.inspect(name)["State"]
    assert (state["Status"], state["Restarting"], state["Running"]) == \
        ("exited", False, False)
