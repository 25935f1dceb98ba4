"""What a container sees of the machine: mounts, privileges, network."""

from __future__ import annotations

from pathlib import Path


def run(clients, *args: str) -> str:
    result = clients.docker("run", "--rm", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def mounts(clients) -> dict[str, tuple[str, set[str]]]:
    """mount point -> (fs type, options) as the container sees them."""
    found = {}
    for line in run(clients, "busybox", "cat", "/proc/mounts").splitlines():
        _source, point, fstype, options, *_ = line.split()
        found[point] = (fstype, set(options.split(",")))
    return found


def test_standard_mounts(clients) -> None:
    seen = mounts(clients)
    assert seen["/proc"][0] == "proc"
    assert seen["/sys"][0] == "sysfs" and "ro" in seen["/sys"][1]
    assert seen["/dev/pts"][0] == "devpts"
    assert seen["/dev/shm"][0] == "tmpfs"
    assert seen["/dev"][0] == "tmpfs"


def test_sys_is_read_only_and_dev_null_writable(clients) -> None:
    out = run(clients, "busybox", "sh", "-c",
              "touch /sys/x 2>/dev/null && echo sys-writable || echo sys-ro;"
              " echo x > /dev/null && echo null-ok; echo x > /dev/shm/f && echo shm-ok")
    assert out.split() == ["sys-ro", "null-ok", "shm-ok"]


def test_sensitive_proc_files_are_masked(clients) -> None:
    # what the host shows in these files must read as empty (or be absent) inside
    candidates = [p for p in ("/proc/kcore", "/proc/timer_list", "/proc/sched_debug",
                              "/proc/keys") if Path(p).exists() and read_some(p)]
    assert candidates, "no maskable /proc file has content on this host"
    script = "; ".join(f'echo "{p} $(cat {p} 2>/dev/null | wc -c)"' for p in candidates)
    for line in run(clients, "busybox", "sh", "-c", script).splitlines():
        path, size = line.split()
        assert size == "0", f"{path} is readable inside the container"


def read_some(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(64)
    except OSError:
        return b""


def test_capabilities_are_docker_defaults(clients) -> None:
    out = run(clients, "busybox", "grep", "-E", "^(CapEff|CapPrm|CapBnd|NoNewPrivs)",
              "/proc/self/status")
    status = dict(line.split(":\t") for line in out.splitlines())
    assert status["CapEff"] == "00000000a80425fb"
    assert status["CapBnd"] == "00000000a80425fb"


def test_no_new_privileges_on_request(clients) -> None:
    out = run(clients, "--security-opt", "no-new-privileges", "busybox",
              "grep", "^NoNewPrivs", "/proc/self/status")
    assert out.split() == ["NoNewPrivs:", "1"]


def test_no_new_privileges_is_off_by_default(clients) -> None:
    """Docker's default: a setuid program in the image still gains its owner's rights."""
    out = run(clients, "busybox", "grep", "^NoNewPrivs", "/proc/self/status")
    assert out.split() == ["NoNewPrivs:", "0"]


def test_capabilities_as_non_root_are_empty(clients) -> None:
    out = run(clients, "-u", "nobody", "busybox", "grep", "^CapEff", "/proc/self/status")
    assert out.split() == ["CapEff:", "0000000000000000"]


def test_default_network_is_isolated(clients) -> None:
    out = run(clients, "busybox", "sh", "-c", "ls /sys/class/net")
    assert "lo" in out.split()


def test_network_none_has_only_loopback(clients) -> None:
    out = run(clients, "--network", "none", "busybox", "ls", "/sys/class/net")
    assert out.split() == ["lo"]


def test_network_host_sees_host_interfaces(clients) -> None:
    # others may add or remove interfaces meanwhile: compare with the host before and after
    before = {p.name for p in Path("/sys/class/net").iterdir()}
    seen = set(run(clients, "--network", "host", "busybox", "ls", "/sys/class/net").split())
    after = {p.name for p in Path("/sys/class/net").iterdir()}
    assert before & after <= seen <= before | after
    assert len(seen) > 1
