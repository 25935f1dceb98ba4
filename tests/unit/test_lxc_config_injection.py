"""Unit tests: no value of a spec ever becomes a key of stage 1's LXC config.

Pure text, no LXC and no root (stages/stage1_lxc/lxc_config.py); the attack itself,
on real containers, is tests/security/test_config_injection.py.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from shared.daemon.containerconfig import check_hostname, merge
from shared.errors import InvalidParameter
from shared.oci import runtime_spec
from shared.oci.users import User
from stages.stage1_lxc import lxc_config

PATHS = lxc_config.Paths(state_dir="/s", log="/s/lxc.log", rootfs_mount="/s/rootfs-mount",
                         hook="/s/hooks.sh")
INJECTED = "x\nlxc.mount.entry = /etc/shadow mnt none bind,create=file 0 0"


def spec(config: dict, host_config: dict | None = None) -> dict:
    return runtime_spec.build("c" * 64, ["true"], config, host_config or {}, "/r/rootfs",
                              User(0, 0, (), "/root"))


def keys(text: str) -> list[str]:
    return [ln.split(" = ", 1)[0] for ln in text.splitlines() if ln and not ln.startswith("#")]


@pytest.mark.parametrize(("config", "key"), [
    ({"WorkingDir": "/" + INJECTED}, "lxc.init.cwd"),
    ({"Hostname": INJECTED}, "lxc.uts.name"),
])
def test_a_newline_in_a_config_value_is_refused_naming_its_key(config: dict, key: str) -> None:
    with pytest.raises(lxc_config.UnsupportedSpec, match=key):
        lxc_config.render(spec(config), PATHS, cgroup_version=2, is_dir=lambda p: False)


def test_a_bind_source_with_a_newline_is_refused() -> None:
    s = spec({})
    s["mounts"].append({"destination": "/data", "type": "bind", "source": f"/tmp/{INJECTED}",
                        "options": ["rbind"]})
    with pytest.raises(lxc_config.UnsupportedSpec, match="lxc.mount.entry"):
        lxc_config.render(s, PATHS, cgroup_version=2, is_dir=lambda p: False)


@pytest.mark.parametrize("value", ["a\nb", "a\0b"])
def test_line_refuses_a_value_that_would_end_it(value: str) -> None:
    with pytest.raises(lxc_config.UnsupportedSpec, match="lxc.environment"):
        lxc_config.line("lxc.environment", value)


def test_an_env_without_newlines_stays_config_lines() -> None:
    env = ["PATH=/bin", "A=b c"]
    assert lxc_config.environment(env) == ["lxc.environment = PATH=/bin",
                                           "lxc.environment = A=b c"]
    assert not lxc_config.needs_carrier(env)
    assert lxc_config.init_command(["sh", "-c", "true"], env, "/h", 3) == ["sh", "-c", "true"]


@pytest.mark.parametrize("entry", [f"X={INJECTED}", "X=trailing ", " X=1", "X=1\t",
                                   "'X=1'", '"X=1"'])
def test_an_env_a_line_would_change_is_carried(entry: str) -> None:
    """A newline would add keys; LXC trims blanks and a pair of quotes off a value."""
    assert lxc_config.needs_carrier(["PATH=/bin", entry])


def test_a_carried_env_is_not_in_the_config_at_all() -> None:
    env = ["PATH=/bin", f"X={INJECTED}"]
    text = lxc_config.render(spec({"Env": env}), PATHS, cgroup_version=2,
                             is_dir=lambda p: False)
    plain = lxc_config.render(spec({"Env": ["PATH=/bin", "X=x"]}), PATHS, cgroup_version=2,
                              is_dir=lambda p: False)
    assert [k for k in keys(text)] == [k for k in keys(plain) if k != "lxc.environment"]
    assert "/etc/shadow" not in text and "lxc.environment" not in text


@pytest.mark.skipif(not os.path.exists("/bin/busybox"), reason="needs a busybox")
def test_the_carrier_gives_the_command_exactly_its_environment() -> None:
    """Runs what lxc-start would run as the init, with the host's busybox and no LXC,
    the script in a memfd as the executor makes it: the command (`cat
    /proc/self/environ`) sees exactly the entries, in order, and not the descriptor."""
    env = ["PATH=/bin", f"X={INJECTED}", "a.b= spaces  ", "-dash=1", "q='it''s'", "d=$HOME`id`"]
    memfd = os.memfd_create("test-env")
    fd = os.dup2(memfd, 60)  # a number no program here opens of its own accord
    os.close(memfd)
    try:
        script = lxc_config.carried_script(env, "/bin/busybox", fd)

        def run(*command: str) -> subprocess.CompletedProcess[bytes]:
            os.truncate(fd, 0)
            os.pwrite(fd, script, 0)
            os.lseek(fd, 0, os.SEEK_SET)  # the init's cat reads from the shared offset
            argv = lxc_config.init_command(["/bin/busybox", *command], env, "/bin/busybox",
                                           fd)
            return subprocess.run(argv, env={"LEAKED": "1"}, capture_output=True,
                                  pass_fds=(fd,))

        environ = run("cat", "/proc/self/environ").stdout
        still_open = run("readlink", f"/proc/self/fd/{fd}").returncode == 0
    finally:
        os.close(fd)
    assert environ.split(b"\0")[:-1] == [e.encode() for e in env]  # all, and only
    assert not still_open  # the command does not inherit the descriptor


@pytest.mark.parametrize(("env", "message"), [
    (["NOVALUE"], "missing '='"),
    (["A=b\0c"], "NUL"),
])
def test_entries_no_environment_can_hold_are_refused(env: list[str], message: str) -> None:
    with pytest.raises(lxc_config.UnsupportedSpec, match=message):
        lxc_config.environment(env)


def test_a_command_env_would_read_as_a_variable_is_refused() -> None:
    with pytest.raises(lxc_config.UnsupportedSpec, match="process.args"):
        lxc_config.init_command(["a=b"], ["X=1\n2"], "/h", 3)


def test_hostnames_as_dockerd_checks_them() -> None:
    check_hostname("a" * 64)
    check_hostname("any\nbyte")  # dockerd checks the length only
    with pytest.raises(InvalidParameter, match="too long"):
        check_hostname("a" * 65)
    with pytest.raises(InvalidParameter, match=r"maximum 64 bytes"):
        merge({"Hostname": "é" * 33}, "img", {"Cmd": ["sh"]}, None)  # 66 bytes


def test_a_hostile_sysctl_is_one_word_in_the_hook_and_stays_under_proc_sys(
        tmp_path) -> None:
    """The start-host hook writes sysctls (and the domain name) as root on the host:
    run here with `nsenter` swapped for a stub that prints its argv, a hostile key
    and value must arrive as two plain arguments, the path under /proc/sys."""
    key = "kernel.x/../../../etc/passwd'; touch /tmp/pwned; '"
    value = "v\n$(touch /tmp/pwned)`id`'"
    script = lxc_config.hook_script(PATHS, str(tmp_path / "fifo"), str(tmp_path / "pid"),
                                    [], str(tmp_path / "oom"), {key: value})
    start = script.split("start-host)\n", 1)[1].split('    echo "$LXC_PID"', 1)[0]
    stub = tmp_path / "nsenter"
    stub.write_text('#!/bin/sh\nfor a in "$@"; do printf "[%s]\\n" "$a"; done\n')
    stub.chmod(0o755)
    out = subprocess.run(["/bin/sh", "-c", start], capture_output=True, text=True,
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin", "LXC_PID": "1"},
                         ).stdout
    args = out.split("]\n[")
    assert args[-2] == value
    assert args[-1].rstrip("]\n") == "/proc/sys/" + key.replace(".", "/")
    assert ".." not in args[-1]
    assert not os.path.exists("/tmp/pwned")
