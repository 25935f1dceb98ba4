"""Which device nodes a container may open: the devices cgroup (v1) or its eBPF
program (v2), the nodes in its /dev, --device, --device-cgroup-rule, --privileged.

A node's name means nothing to the kernel; its type and major:minor do. So the tests
make nodes themselves (mknod is allowed by default, opening is not) with the numbers
of a real disk of the host, and read them: what decides is the allow-list alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DENIED = "Operation not permitted"  # EPERM: the allow-list said no


def host_disk() -> tuple[str, int, int]:
    """A block device this host lets the test itself open: (name, major, minor).

    The whole disk would be the natural choice, but a sandboxed host (this one runs
    inside another's device rules) may refuse it to everybody; a loop device is a
    block device of the host all the same. What a test then proves is that the
    container, not the host, is what refuses it."""
    for entry in sorted(Path("/sys/dev/block").iterdir()):
        major, minor = (int(n) for n in entry.name.split(":"))
        name = entry.resolve().name
        try:
            os.close(os.open(f"/dev/{name}", os.O_RDONLY))
        except OSError:
            continue
        return name, major, minor
    pytest.skip("no block device this host lets the test open")


def sh(clients, *args: str) -> tuple[int, str, str]:
    result = clients.docker("run", "--rm", *args)
    return result.returncode, result.stdout, result.stderr


def test_default_container_cannot_read_a_host_disk_it_mknods(clients) -> None:
    _, major, minor = host_disk()
    code, out, err = sh(clients, "busybox", "sh", "-c",
                        f"mknod /tmp/disk b {major} {minor} && echo made;"
                        " head -c 512 /tmp/disk >/dev/null && echo read")
    assert out.split() == ["made"], (out, err)  # making the node is allowed...
    assert f"/tmp/disk: {DENIED}" in err, err  # ...opening it is not


def test_default_devices_work(clients) -> None:
    code, out, err = sh(clients, "busybox", "sh", "-c",
                        "echo x > /dev/null && echo null-ok;"
                        " head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c;"
                        " head -c 4 /dev/random | wc -c; head -c 4 /dev/full | wc -c;"
                        " (: <> /dev/ptmx) && echo ptmx-ok;"
                        " head -c 1 /dev/tty; echo tty-done")
    assert out.split() == ["null-ok", "4", "4", "4", "4", "ptmx-ok", "tty-done"], (out, err)
    assert DENIED not in err, err
    # No controlling terminal: /dev/tty's driver says ENXIO; the allow-list let it through.
    assert "No such device or address" in err, err


def test_device_makes_exactly_that_device_usable(clients) -> None:
    name, major, minor = host_disk()
    # The host's device, read-only, under another name; another minor of the same
    # driver, made by hand, stays refused.
    code, out, err = sh(clients, "--device", f"/dev/{name}:/dev/thedisk:r", "busybox", "sh",
                        "-c", "ls -l /dev/thedisk; head -c 512 /dev/thedisk >/dev/null"
                        " && echo read-ok;"
                        f" mknod /tmp/other b {major} {minor + 1};"
                        " head -c 512 /tmp/other >/dev/null && echo other-read")
    assert out.startswith("b") and f"{major}, {minor:>3} " in out, (out, err)
    assert out.split()[-1] == "read-ok", (out, err)
    assert f"/tmp/other: {DENIED}" in err, err


def test_device_alias_of_dev_null(clients) -> None:
    code, out, _ = sh(clients, "--device", "/dev/null:/dev/mynull", "busybox", "sh", "-c",
                   "ls -l /dev/mynull && echo x > /dev/mynull && echo written")
    assert code == 0, out
    assert out.startswith("crw") and "1,   3" in out and "written" in out, out


def test_device_cgroup_rule_allows_a_node_made_by_hand(clients) -> None:
    _, major, minor = host_disk()
    code, out, err = sh(clients, "--device-cgroup-rule", f"b {major}:{minor} r", "busybox",
                        "sh", "-c", f"mknod /tmp/disk b {major} {minor};"
                        " head -c 512 /tmp/disk >/dev/null && echo read-ok")
    assert out.split() == ["read-ok"], (out, err)


def full_bounding_set() -> bool:
    """A privileged container gets every capability; a host (itself confined) that
    lacks some cannot give them, and runc refuses to start it ("unable to apply caps")."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
            return int(line.split()[1], 16) == (1 << (last + 1)) - 1
    return False


@pytest.mark.skipif(not full_bounding_set(), reason="this host's own bounding set is not "
                    "full: no runtime can make a privileged container here")
def test_privileged_container_reads_the_host_disk(clients) -> None:
    name, _, _ = host_disk()
    code, out, err = sh(clients, "--privileged", "busybox", "sh", "-c",
                        f"head -c 512 /dev/{name} >/dev/null && echo read-ok")
    assert out.split() == ["read-ok"], (out, err)


def test_missing_host_device_fails_the_start(clients) -> None:
    name = clients.name()
    result = clients.docker("run", "--name", name, "--device", "/dev/no-such-device",
                            "busybox", "true")
    assert result.returncode != 0
    assert ('error gathering device information while adding custom device '
            '"/dev/no-such-device": no such file or directory') in result.stderr
    # Docker checks devices at start: the container was created, and stays so.
    assert clients.inspect(name)["State"]["Status"] == "created"


def test_malformed_rule_from_an_api_client_fails_the_start_with_500(clients) -> None:
    # The docker CLI checks rules itself; an API client's reach the daemon, which
    # refuses them at start (a system error, as moby's start.go calls a spec's).
    name = clients.name()
    reply = clients.api("POST", f"/containers/create?name={name}", {
        "Image": "busybox", "Cmd": ["true"],
        "HostConfig": {"DeviceCgroupRules": ["c 1:3 rwx"]}})
    assert reply.status == 201, reply.body
    reply = clients.api("POST", f"/containers/{name}/start")
    assert reply.status == 500, reply.body
    assert reply.json()["message"] == "invalid device cgroup rule format: 'c 1:3 rwx'"


def test_cli_refuses_bad_device_flags(cli) -> None:
    result = cli("run", "--rm", "--device-cgroup-rule", "c 1:3", "busybox", "true")
    assert result.returncode == 125
    assert ('invalid argument "c 1:3" for "--device-cgroup-rule" flag: '
            "invalid device cgroup format 'c 1:3'") in result.stderr
    result = cli("run", "--rm", "--device", "/dev/null:dev/x", "busybox", "true")
    assert result.returncode == 125
    assert "dev/x is not an absolute path" in result.stderr
