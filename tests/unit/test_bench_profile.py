"""The bench profile's pure parts: trace lines into phases (tests/bench_profile.py), and
the Benchmarks page's stacked bars and placeholders (scripts/docs/sitegen/bench.py).

Every trace here is a FAKE, written by hand to look like what trace mode records
(shared/trace.py): a client, a daemon, containerd, one runc and a container's init,
with CLOCK_MONOTONIC times chosen so that each phase has a round length.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.bench_profile import median_phases, phases, request_name

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "docs"))

from sitegen import bench  # noqa: E402 (the path must be set first)

T0 = 1000.0  # the fake run's spawn, on the monotonic clock (s)


def rec(component: str, kind: str, what: str, start_ms: float, ms: float, pid: int,
        loaded: float = 0.0, peer: str = "") -> dict:
    return {"t": 1.7e9, "mono": T0 + start_ms / 1000, "loaded": loaded, "ms": ms,
            "pid": pid, "component": component, "kind": kind, "what": what, "peer": peer}


def fake_stage3_run() -> list[dict]:
    """A fake stage 3 run of 100 ms: client up at 10 ms, requests create and start,
    a runc started at 30 ms by containerd, that loads shared.trace at 38 ms, and its
    libcontainer's and init's steps."""
    daemon_loaded = T0 - 60  # the daemon started a minute before: not this run's
    client_loaded = T0 + 0.010
    runc_loaded = T0 + 0.038
    return [
        rec("client", "call", "POST /containers/create", 15, 5, 10, client_loaded, "daemon"),
        rec("daemon", "serve", "POST /v1.45/containers/create", 16, 3, 2, daemon_loaded),
        rec("client", "call", "POST /containers/" + "a" * 64 + "/start", 20, 60, 10,
            client_loaded, "daemon"),
        rec("daemon", "serve", "POST /v1.45/containers/" + "a" * 64 + "/start", 21, 58, 2,
            daemon_loaded),
        rec("daemon", "work", "overlay mount", 22, 2, 2, daemon_loaded),
        rec("daemon", "call", "Tasks.Create", 25, 50, 2, daemon_loaded, "containerd"),
        rec("containerd", "call", "runc create", 30, 44, 3, daemon_loaded, "runc"),
        rec("runc", "serve", "create", 40, 30, 20, runc_loaded),
        rec("libcontainer", "step", "spec read", 44, 0, 20, runc_loaded),
        rec("libcontainer", "step", "cgroup made", 47, 0, 20, runc_loaded),
        rec("init", "step", "joined the cgroup", 50, 0, 21, runc_loaded),
        rec("init", "step", "unshare(mount, pid)", 52, 0, 21, runc_loaded),
        rec("init", "step", "created: waiting on exec.fifo for `start`", 68, 0, 21, runc_loaded),
        # a record from before the spawn (the last run's delete): not this run's
        {**rec("daemon", "serve", "DELETE /v1.45/containers/x", 0, 1, 2), "mono": T0 - 1},
    ]


def test_request_names_drop_versions_and_ids() -> None:
    assert request_name("POST /v1.45/containers/" + "b" * 64 + "/start") == "start"
    assert request_name("POST /containers/create?name=x") == "create"
    assert request_name("DELETE /v1.45/containers/" + "b" * 64 + "?force=1") == "delete"
    assert request_name("HEAD /_ping") == "ping"


def test_a_fake_run_becomes_nested_phases() -> None:
    got = phases(fake_stage3_run(), T0, T0 + 0.100)
    assert got == [
        (0, "client: interpreter start, imports up to shared.trace", 10.0),
        (0, "client: imports, arguments", 5.0),
        (0, "request: create", 5.0),
        (1, "daemon serves create", 3.0),
        (0, "request: start", 60.0),
        (1, "daemon serves start", 58.0),
        (2, "daemon: overlay mount", 2.0),
        (2, "daemon → containerd: Tasks.Create", 50.0),
        (3, "containerd → runc: runc create", 44.0),
        (4, "runc: interpreter start, imports up to shared.trace", 8.0),
        (4, "runc: imports, arguments", 2.0),
        (4, "runc serves create", 30.0),
        (5, "libcontainer: imports, the spec read (specconv)", 4.0),
        (5, "libcontainer: state dir, exec.fifo, the cgroup made", 3.0),
        (5, "init: forked (twice), joins the cgroup", 3.0),
        (5, "init: setns/unshare (the namespaces)", 2.0),
        (5, "init: hostname, capabilities, seccomp, ready", 16.0),
        (4, "runc: exit, answer reaches the caller", 4.0),
        (0, "exit and gaps", 20.0),
    ]
    top = sum(ms for depth, _, ms in got if depth == 0)
    assert abs(top - 100.0) < 0.01  # the client's phases and the rest: the wall time


def test_medians_match_phases_by_path_and_rank() -> None:
    one = [(0, "request: start", 10.0), (1, "runc serves x", 4.0), (1, "runc serves x", 6.0)]
    two = [(0, "request: start", 30.0), (1, "runc serves x", 8.0), (1, "runc serves x", 2.0)]
    three = [(0, "request: start", 20.0), (1, "runc serves x", 5.0)]
    got = median_phases([one, two, three])
    assert [(p["depth"], p["phase"], p["ms"], p["seen"]) for p in got] == [
        (0, "request: start", 20.0, 3),
        (1, "runc serves x", 5.0, 3),  # the first of its name: 4, 8, 5
        (1, "runc serves x", 4.0, 2),  # the second: 6, 2
    ]


def test_a_bar_opens_up_the_start_request() -> None:
    ms = {"depth": 0}
    fake = [{**ms, "phase": "client: interpreter start, imports up to shared.trace", "ms": 10},
            {**ms, "phase": "request: create", "ms": 5},
            {"depth": 1, "phase": "daemon serves create", "ms": 3},
            {**ms, "phase": "request: start", "ms": 60},
            {"depth": 1, "phase": "daemon serves start", "ms": 58},
            {"depth": 2, "phase": "daemon: overlay mount", "ms": 2},
            {"depth": 2, "phase": "daemon → containerd: Tasks.Create", "ms": 50},
            {"depth": 3, "phase": "containerd → runc: runc create", "ms": 44},
            {**ms, "phase": "daemon → containerd: Tasks.Delete", "ms": 9},
            {**ms, "phase": "exit and gaps", "ms": 25}]
    assert bench.segments(fake, 100.0) == [
        ("client: interpreter start, imports up to shared.trace", 10),
        ("request: create", 5),
        ("daemon: overlay mount", 2),
        ("daemon → containerd: Tasks.Create", 50),
        ("start: HTTP, daemon's bookkeeping", 8),
        ("exit, delete, gaps", 25.0),
    ]


def test_bars_share_one_scale_and_escape_names() -> None:
    svg = bench.stacked_bars([("stage2", [("a <b>", 30.0), ("request: x", 10.0)]),
                              ("docker", [("docker run", 80.0)])], width=760)
    # 760 - 150 (labels) - 60 (the total's text): 550 px for the longest bar, 80 ms
    assert 'x="150.0" y="0" width="206.2"' in svg  # 30 ms
    assert 'x="356.2" y="0" width="68.8"' in svg  # 10 ms, right after it
    assert 'width="550.0"' in svg  # docker's 80 ms: the whole width
    assert "a &lt;b&gt;: 30.0 ms" in svg and "<b>" not in svg


def test_placeholders_expand_from_the_data_or_say_it_is_missing() -> None:
    data = {"profile": {"stages": {"stage2": {"wall_ms": 120.0, "docker_ms": 300.0,
                                              "phases": []}},
                        "runtimes": {"runs": 1, "verbs_ms": {"runc": {"start": 4.2}},
                                     "whalebones_runc_run": []}}}
    page = ("<!-- wb-bench:wall stage2 --> is <!-- wb-bench:x-docker stage2 -->; runc "
            "start <!-- wb-bench:verb runc start -->; <!-- wb-bench:x-docker stage9 -->")
    assert bench.expand(page, data) == (
        f"120 ms is 0.40×; runc start 4.2 ms; {bench.MISSING}")
    assert bench.expand("<!-- wb-bench:scale -->", {}) == bench.MISSING


def test_an_unknown_placeholder_is_a_warning() -> None:
    warnings: list[str] = []
    out = bench.expand("<!-- wb-bench:typo stage2 -->", {}, warnings.append)
    assert out == bench.MISSING
    assert warnings == ["unknown placeholder <!-- wb-bench:typo stage2 -->"]


def test_the_process_cost_is_what_runc_and_the_shim_spend_around_their_work() -> None:
    fake = [{"depth": 0, "phase": "request: start", "ms": 80.0},
            {"depth": 1, "phase": "runc: interpreter start, imports up to shared.trace",
             "ms": 12.0},
            {"depth": 1, "phase": "runc serves create", "ms": 30.0},
            {"depth": 1, "phase": "runc: exit, answer reaches the caller", "ms": 3.0},
            {"depth": 1, "phase": "shim: accepts the call", "ms": 5.0}]
    data = {"profile": {"stages": {"stage3": {"wall_ms": 100.0, "docker_ms": 200.0,
                                              "phases": fake}}}}
    page = ("<!-- wb-bench:process-cost stage3 -->, "
            "<!-- wb-bench:x-docker-without-process-cost stage3 -->, "
            "<!-- wb-bench:phase stage3 runc serves create -->")
    assert bench.expand(page, data) == "20 ms, 0.40×, 30 ms"
    assert bench.ms_text(0.31) == "0.3 ms" and bench.ms_text(12.6) == "13 ms"


def test_work_of_another_thread_is_not_part_of_a_span_it_overlaps() -> None:
    """FAKE: the daemon serves `start` in one thread while another (its exit watcher)
    calls containerd; containerd serves that call while it waits on a shim."""
    records = [
        {**rec("daemon", "serve", "POST /v1.45/containers/x/start", 0, 50, 2), "tid": 1},
        {**rec("daemon", "call", "Tasks.Wait", 5, 40, 2, peer="containerd"), "tid": 1},
        {**rec("containerd", "call", "wait", 6, 38, 3, peer="shim"), "tid": 7},
        {**rec("daemon", "call", "Tasks.Delete", 10, 5, 2, peer="containerd"), "tid": 9},
        {**rec("containerd", "serve", "Tasks.Delete", 11, 3, 3), "tid": 8},
    ]
    got = phases(records, T0, T0 + 0.050)
    assert got[:5] == [
        (0, "daemon serves start", 50.0),
        (1, "daemon → containerd: Tasks.Wait", 40.0),
        (2, "containerd → shim: wait", 38.0),
        (0, "daemon → containerd: Tasks.Delete", 5.0),  # not part of start, nor of wait
        (1, "containerd serves Tasks.Delete", 3.0),
    ]


def test_a_serve_goes_under_the_call_it_answers() -> None:
    """FAKE: two calls to containerd open at once; each serve under its own."""
    records = [
        {**rec("daemon", "call", "Tasks.CloseIO", 0, 20, 2, peer="containerd"), "tid": 1},
        {**rec("daemon", "call", "Tasks.Delete", 5, 10, 2, peer="containerd"), "tid": 9},
        {**rec("containerd", "serve", "Tasks.CloseIO", 6, 1, 3), "tid": 4},
        {**rec("containerd", "serve", "Tasks.Delete", 7, 5, 3), "tid": 5},
    ]
    assert phases(records, T0, T0 + 0.020)[:4] == [
        (0, "daemon → containerd: Tasks.CloseIO", 20.0),
        (1, "containerd serves Tasks.CloseIO", 1.0),
        (0, "daemon → containerd: Tasks.Delete", 10.0),
        (1, "containerd serves Tasks.Delete", 5.0),
    ]


def test_a_runtime_spawned_by_the_bench_is_the_root() -> None:
    """FAKE: `whalebones-runc run`, spawned at T0, loads shared.trace at 10 ms, serves
    `run` from 12 to 40 ms, and has exited at 45 ms."""
    loaded = T0 + 0.010
    records = [rec("runc", "serve", "run", 12, 28, 5, loaded),
               rec("libcontainer", "step", "spec read", 20, 0, 5, loaded)]
    assert phases(records, T0, T0 + 0.045) == [
        (0, "runc: interpreter start, imports up to shared.trace", 10.0),
        (0, "runc: imports, arguments", 2.0),
        (0, "runc serves run", 28.0),
        (1, "libcontainer: imports, the spec read (specconv)", 8.0),
        (0, "exit and gaps", 5.0),
    ]
