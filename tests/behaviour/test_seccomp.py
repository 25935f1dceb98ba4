"""Seccomp: Docker's default system-call filter, custom profiles, and `unconfined`.

`unshare -U` is the witness: making a user namespace needs no capability, so when it
fails in a default container, the filter refused it (the default profile allows
unshare only with CAP_SYS_ADMIN), and it succeeds once the filter is gone. mount and
swapon also need CAP_SYS_ADMIN, which a default container lacks: their EPERM shows
that they fail, not which of the two refused them. keyctl, also refused by the
profile, is not an applet of busybox (and the image has nothing else to call it).
"""

from __future__ import annotations

import json
from pathlib import Path

EPERM = "Operation not permitted"
UNSHARE = ["unshare", "-U", "true"]


def deny_mkdir_profile(tmp_path: Path) -> str:
    """A custom profile: everything allowed but mkdir (x86's old call and mkdirat)."""
    path = tmp_path / "no-mkdir.json"
    path.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 1}],
    }))
    return str(path)


def test_the_default_filter_refuses_what_containers_must_not_reach(clients) -> None:
    script = ("echo ordinary; ls / >/dev/null && mkdir /tmp/d && echo works;"
              " unshare -U true; echo unshare=$?;"
              " mount -t tmpfs none /mnt; echo mount=$?;"
              " touch /tmp/swap; swapon /tmp/swap; echo swapon=$?")
    result = clients.docker("run", "--rm", "busybox", "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[:2] == ["ordinary", "works"]
    assert "unshare=1" in lines and "mount=1" in lines and "swapon=1" in lines, lines
    assert f"unshare(0x10000000): {EPERM}" in result.stderr
    assert "permission denied" in result.stderr  # busybox mount's words for EPERM
    assert f"swapon: /tmp/swap: {EPERM}" in result.stderr


def test_unconfined_lets_the_refused_call_through(cli) -> None:
    refused = cli("run", "--rm", "busybox", *UNSHARE)
    assert refused.returncode == 1 and EPERM in refused.stderr
    result = cli("run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", *UNSHARE)
    assert result.returncode == 0, result.stderr


def test_the_filter_applies_without_no_new_privileges(clients) -> None:
    """Without no_new_privs, loading a filter takes CAP_SYS_ADMIN: the runtime loads it
    before it drops the capabilities (Docker's default)."""
    result = clients.docker("run", "--rm", "--security-opt", "no-new-privileges=false",
                            "busybox", "sh", "-c",
                            "grep NoNewPrivs /proc/self/status; unshare -U true")
    assert result.stdout.split() == ["NoNewPrivs:", "0"], result.stderr
    assert result.returncode == 1 and EPERM in result.stderr


def test_a_custom_profile_denies_mkdir(cli, tmp_path: Path) -> None:
    profile = deny_mkdir_profile(tmp_path)
    result = cli("run", "--rm", "--security-opt", f"seccomp={profile}", "busybox", "sh", "-c",
                 "touch /made && echo touched; mkdir /x; echo mkdir=$?; unshare -U true"
                 " && echo unshared")
    assert result.stdout.split() == ["touched", "mkdir=1", "unshared"], result.stderr
    assert f"mkdir: can't create directory '/x': {EPERM}" in result.stderr


def test_a_profile_file_that_cannot_be_read_is_refused_by_the_client(cli,
                                                                      tmp_path: Path) -> None:
    result = cli("run", "--rm", "--security-opt", f"seccomp={tmp_path}/nosuch.json",
                 "busybox", "true")
    assert result.returncode == 125
    assert f"opening seccomp profile ({tmp_path}/nosuch.json) failed" in result.stderr


def test_cap_add_sys_admin_enables_the_profiles_conditional_rules(clients) -> None:
    result = clients.docker("run", "--rm", "--cap-add", "SYS_ADMIN", "busybox", *UNSHARE)
    assert result.returncode == 0, result.stderr


def test_the_filter_applies_to_exec(clients, tmp_path: Path) -> None:
    """An exec'd process is not a child of the container's init: the runtime loads
    the container's filter into it as well."""
    confined, custom, unconfined = clients.name(), clients.name(), clients.name()
    for name, opts in ((confined, []),
                       (custom, ["--security-opt", f"seccomp={deny_mkdir_profile(tmp_path)}"]),
                       (unconfined, ["--security-opt", "seccomp=unconfined"])):
        result = clients.docker("run", "-d", "--name", name, *opts, "busybox", "sleep", "60")
        assert result.returncode == 0, result.stderr
    refused = clients.docker("exec", confined, *UNSHARE)
    assert refused.returncode == 1 and EPERM in refused.stdout + refused.stderr
    refused = clients.docker("exec", custom, "mkdir", "/x")
    assert refused.returncode == 1 and EPERM in refused.stdout + refused.stderr
    allowed = clients.docker("exec", unconfined, *UNSHARE)
    assert allowed.returncode == 0, allowed.stderr
