"""whalebones-runc on its own: the OCI runtime CLI, driven as containerd drives it.

Real containers from a busybox rootfs, as root. Bundles come from `whalebones-runc
spec` and from the real `runc spec`, and the real runc runs the same bundles: the two
runtimes are meant to be interchangeable.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from stages.stage2_libcontainer.libcontainer import cgroups
from tests.stages.stage3.conftest import REAL_RUNC, RUNC, Runc, processes_mentioning

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")

ECHO_EXIT_3 = ["sh", "-c", "echo hi; exit 3"]
# `runc spec` lists capabilities as ambient that it leaves out of inheritable. The
# kernel refuses to raise those (PR_CAP_AMBIENT_RAISE needs both sets); runc only
# warns, stage 2's capabilities.apply fails, and init exits 127 after `start` with
# its message lost (the sync socket is gone by then). To fix in stage 2, not here.


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_version() -> None:
    out = subprocess.run([RUNC, "--version"], capture_output=True, text=True).stdout
    assert out.splitlines() == ["runc version 1.1.0-whalebones", "spec: 1.0.2"]


def test_spec_is_runc_like(tmp_path: Path) -> None:
    subprocess.run([RUNC, "spec", "--bundle", str(tmp_path)], check=True)
    spec = json.loads((tmp_path / "config.json").read_text())
    assert spec["process"]["args"] == ["sh"]
    assert spec["process"]["terminal"] is True
    assert spec["root"]["path"] == "rootfs"
    again = subprocess.run([RUNC, "spec", "--bundle", str(tmp_path)], capture_output=True,
                           text=True)
    assert again.returncode == 1 and "exists" in again.stderr


@pytest.mark.parametrize("generator", [RUNC, REAL_RUNC],
                         ids=["our-spec", "runc-spec"])
def test_run_prints_and_passes_the_exit_code(runc: Runc, make_bundle, generator: str) -> None:
    cid, bundle = make_bundle(ECHO_EXIT_3, generator=generator)
    p = runc("run", "--bundle", str(bundle), cid, check=False)
    assert (p.returncode, p.stdout) == (3, "hi\n"), p.stderr


@pytest.mark.parametrize("generator", [RUNC, REAL_RUNC], ids=["our-spec", "runc-spec"])
def test_real_runc_runs_the_same_bundle(tmp_path: Path, make_bundle, generator: str) -> None:
    cid, bundle = make_bundle(ECHO_EXIT_3, generator=generator)
    real = Runc(tmp_path / "real-root", REAL_RUNC)
    p = real("run", "--bundle", str(bundle), cid, check=False)
    assert (p.returncode, p.stdout) == (3, "hi\n"), p.stderr


def test_run_with_a_terminal(runc: Runc, make_bundle) -> None:
    """process.terminal and no console socket: runc holds the pty and copies it."""
    cid, bundle = make_bundle(["sh", "-c", "tty; exit 5"], terminal=True)
    command = f"{RUNC} --root {runc.root} run --bundle {bundle} {cid}"
    p = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 5
    assert "/dev/pts/0" in p.stdout


def test_run_forwards_sigterm(runc: Runc, make_bundle) -> None:
    script = "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done"
    cid, bundle = make_bundle(["sh", "-c", script])
    with subprocess.Popen([RUNC, "--root", str(runc.root), "run", "--bundle", str(bundle),
                           cid], stdout=subprocess.PIPE, text=True) as p:
        assert p.stdout is not None
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 7
        assert p.stdout.read() == "got TERM\n"


def test_create_then_start(runc: Runc, make_bundle, tmp_path: Path) -> None:
    cid, bundle = make_bundle(["sleep", "1000"])
    pid_file = tmp_path / "init.pid"
    runc("create", "--bundle", str(bundle), "--pid-file", str(pid_file), cid)
    text = pid_file.read_text()
    assert text.isdigit(), repr(text)  # digits only, no newline
    pid = int(text)
    runc.pids.append(pid)
    state = runc.state(cid)
    assert (state["status"], state["pid"], state["id"]) == ("created", pid, cid)
    assert state["bundle"] == str(bundle)
    assert state["rootfs"] == str(bundle / "rootfs")
    assert state["owner"] == "" and state["annotations"] == {}
    assert state["created"].endswith("Z") and "T" in state["created"]
    # runc has exited; init was handed to the nearest subreaper: this test. (Init,
    # forked from runc and not yet exec'ed, still has runc's command line, as the real
    # runc's shows `runc init`; it is the only one.)
    assert parent_of(pid) == os.getpid()
    assert [line.split(":")[0] for line in processes_mentioning(str(runc.root))] == [str(pid)]
    cgroup = cgroups.manager(f"/whalebones/{cid}")
    assert cgroup.processes() == [pid]  # no linux.cgroupsPath: ours, not the caller's

    runc("start", cid)
    assert runc.state(cid)["status"] == "running"
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read() == b"sleep\x001000\x00"

    runc("kill", cid, "9")
    assert runc.reap(pid) == -signal.SIGKILL
    assert runc.state(cid) | {"created": ""} == state | {"status": "stopped", "pid": 0,
                                                         "created": ""}
    runc("delete", cid)
    assert not (runc.root / cid).exists()
    assert not [d for _, d in cgroup.hierarchies() if os.path.exists(d)]


def start_sleeper(runc: Runc, make_bundle, tmp_path: Path,
                  args: list[str] | None = None) -> tuple[str, int]:
    cid, bundle = make_bundle(args or ["sleep", "1000"])
    pid_file = tmp_path / f"{cid}.pid"
    runc("run", "--detach", "--bundle", str(bundle), "--pid-file", str(pid_file), cid)
    pid = int(pid_file.read_text())
    runc.pids.append(pid)
    return cid, pid


def test_exec_detached_with_a_process_file(runc: Runc, make_bundle, tmp_path: Path) -> None:
    cid, init = start_sleeper(runc, make_bundle, tmp_path)
    process = tmp_path / "process.json"
    process.write_text(json.dumps({"args": ["sleep", "500"], "cwd": "/", "terminal": False,
                                   "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}))
    pid_file = tmp_path / "exec.pid"
    runc("exec", "--process", str(process), "--detach", "--pid-file", str(pid_file), cid)
    pid = int(pid_file.read_text())
    runc.pids.append(pid)
    assert parent_of(pid) == os.getpid()
    for ns in ("pid", "uts", "mnt", "net", "ipc"):
        assert os.readlink(f"/proc/{pid}/ns/{ns}") == os.readlink(f"/proc/{init}/ns/{ns}")
    assert pid in json.loads(runc("ps", "--format", "json", cid).stdout)

    # In the foreground: output on our stdout, its exit code ours.
    p = runc("exec", cid, "sh", "-c", "hostname; echo $$; exit 4", check=False)
    hostname, inner_pid = p.stdout.split()
    assert (p.returncode, hostname) == (4, cid[-12:])
    assert int(inner_pid) > 1  # a pid of the container's namespace

    runc("kill", "--all", cid, "KILL")
    assert runc.reap(pid) == -signal.SIGKILL
    assert runc.reap(init) == -signal.SIGKILL
    runc("delete", cid)


def test_exec_sends_the_pty_master_to_the_console_socket(runc: Runc, make_bundle,
                                                         tmp_path: Path) -> None:
    cid, _ = start_sleeper(runc, make_bundle, tmp_path)
    process = tmp_path / "process.json"
    process.write_text(json.dumps({"args": ["sh", "-c", "tty; echo out"], "cwd": "/",
                                   "terminal": True, "env": ["PATH=/bin"]}))
    path = str(tmp_path / "console.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(path)
        listener.listen(1)
        pid_file = tmp_path / "exec.pid"
        runc("exec", "--process", str(process), "--detach", "--pid-file", str(pid_file),
             "--console-socket", path, cid)
        runc.pids.append(int(pid_file.read_text()))
        conn, _ = listener.accept()
        with conn:
            name, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    assert name == b"/dev/pts/0" and len(fds) == 1
    output = b""
    try:
        while chunk := os.read(fds[0], 4096):
            output += chunk
    except OSError:  # EIO: the process has exited and closed its end
        pass
    os.close(fds[0])
    assert output.split() == [b"/dev/pts/0", b"out"]
    assert runc.reap(int(pid_file.read_text())) == 0


def test_list_pause_resume(runc: Runc, make_bundle, tmp_path: Path) -> None:
    cid, init = start_sleeper(runc, make_bundle, tmp_path)
    listed = json.loads(runc("list", "--format", "json").stdout)
    assert [(s["id"], s["pid"], s["status"]) for s in listed] == [(cid, init, "running")]
    assert cid in runc("list").stdout
    assert json.loads(runc("ps", "--format", "json", cid).stdout) == [init]
    assert str(init) in runc("ps", cid).stdout
    runc("pause", cid)
    assert runc.state(cid)["status"] == "paused"
    with open(f"/proc/{init}/stat") as f:
        assert f.read().rsplit(")", 1)[1].split()[0] in ("D", "S")  # frozen, not running
    assert runc("delete", cid, check=False).returncode == 1  # paused: not without --force
    runc("resume", cid)
    assert runc.state(cid)["status"] == "running"
    assert "not paused" in runc("resume", cid, check=False).stderr


def test_kill_all_signals_every_process(runc: Runc, make_bundle, tmp_path: Path) -> None:
    cid, init = start_sleeper(runc, make_bundle, tmp_path,
                              ["sh", "-c", "sleep 1000 & sleep 1000 & wait"])
    deadline = time.monotonic() + 5
    while len(json.loads(runc("ps", "--format", "json", cid).stdout)) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    runc("kill", "--all", cid, "SIGKILL")
    assert runc.reap(init) == -signal.SIGKILL
    assert runc.state(cid)["status"] == "stopped"
    assert "container not running" in runc("kill", cid, check=False).stderr
    runc("delete", cid)


def test_delete_force_kills_a_running_container(runc: Runc, make_bundle,
                                                tmp_path: Path) -> None:
    cid, init = start_sleeper(runc, make_bundle, tmp_path)
    p = runc("delete", cid, check=False)
    assert p.returncode == 1 and "not stopped: running" in p.stderr
    runc("delete", "--force", cid)
    assert runc.reap(init) == -signal.SIGKILL
    assert not (runc.root / cid).exists()


def test_update_memory_and_pids(runc: Runc, make_bundle, tmp_path: Path) -> None:
    cid, _ = start_sleeper(runc, make_bundle, tmp_path)
    resources = {"memory": {"limit": 64 << 20}, "pids": {"limit": 20}}
    runc("update", "--resources", "-", cid, input=json.dumps(resources))
    cgroup = cgroups.manager(f"/whalebones/{cid}")
    if cgroup.version == 1:
        files = {"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids"}
        memory = Path(files["memory"] + cgroup.path, "memory.limit_in_bytes").read_text()
        pids = Path(files["pids"] + cgroup.path, "pids.max").read_text()
    else:
        memory = Path("/sys/fs/cgroup" + cgroup.path, "memory.max").read_text()
        pids = Path("/sys/fs/cgroup" + cgroup.path, "pids.max").read_text()
    assert (int(memory), pids.strip()) == (64 << 20, "20")
    p = runc("update", "--resources", "-", cid,
             input='{"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]}', check=False)
    assert p.returncode == 1 and "only memory, pids, cpu, blockIO can be updated" in p.stderr


@pytest.mark.parametrize("verb", ["state", "start", "kill", "delete", "pause", "ps", "exec"])
def test_unknown_id_is_an_error(runc: Runc, verb: str) -> None:
    p = runc(verb, "nosuchcontainer", check=False)
    assert p.returncode == (255 if verb == "exec" else 1)  # runc's exec.go: 255
    assert "does not exist" in p.stderr


def test_errors_as_json_lines_in_the_log(runc: Runc, tmp_path: Path) -> None:
    log = tmp_path / "log.json"
    p = runc("--log", str(log), "--log-format", "json", "kill", "nosuchcontainer", "9",
             check=False)
    (line,) = log.read_text().splitlines()
    entry = json.loads(line)
    assert p.returncode == 1
    assert entry["level"] == "error" and "does not exist" in entry["msg"]
    assert time.strptime(entry["time"], "%Y-%m-%dT%H:%M:%SZ")


def test_failed_create_leaves_nothing(runc: Runc, make_bundle) -> None:
    cid, bundle = make_bundle(["/no/such/program"])
    p = runc("create", "--bundle", str(bundle), cid, check=False)
    assert p.returncode == 1 and "no/such/program" in p.stderr
    assert not (runc.root / cid).exists()


def test_exec_with_a_terminal_in_the_foreground(runc: Runc, make_bundle,
                                                tmp_path: Path) -> None:
    cid, _ = start_sleeper(runc, make_bundle, tmp_path)
    command = f"{RUNC} --root {runc.root} exec --tty {cid} sh -c 'tty; exit 6'"
    p = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 6
    assert "/dev/pts/0" in p.stdout


def test_a_bad_pid_file_path_leaves_no_container(runc: Runc, make_bundle,
                                                 tmp_path: Path) -> None:
    cid, bundle = make_bundle(["sleep", "1000"])
    p = runc("create", "--bundle", str(bundle), "--pid-file", str(tmp_path / "no/dir/pid"),
             cid, check=False)
    assert p.returncode == 1 and "no/dir" in p.stderr
    assert not (runc.root / cid).exists()


def test_terminal_rules(runc: Runc, make_bundle) -> None:
    cid, bundle = make_bundle(["true"], terminal=True)
    p = runc("run", "--detach", "--bundle", str(bundle), cid, check=False)
    assert p.returncode == 1 and "without setting console socket" in p.stderr
    assert not (runc.root / cid).exists()
