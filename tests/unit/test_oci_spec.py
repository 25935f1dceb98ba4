"""Unit tests: Docker's rules for turning a create request into a runtime spec.

Pure functions, no containers: the behaviour suite checks the same rules end to end.
"""

from __future__ import annotations

import pytest

from shared.oci import runtime_spec, users
from shared.oci.runtime_spec import SpecError, User


def test_env_later_wins_in_place() -> None:
    env = runtime_spec.merge_env(["A=1", "B=2"], ["B=3", "NOVALUE"], ["HOSTNAME=h"])
    assert env == ["A=1", "B=3", "HOSTNAME=h"]


def test_resources_translate_docker_flags() -> None:
    res = runtime_spec.resources(
        {"Memory": 64 << 20, "NanoCpus": 500_000_000, "PidsLimit": 10, "CpuShares": 512}
    )
    assert res == {
        "memory": {"limit": 64 << 20},
        "cpu": {"period": 100_000, "quota": 50_000, "shares": 512},
        "pids": {"limit": 10},
    }


@pytest.mark.parametrize(
    ("host_config", "message"),
    [
        ({"Memory": 1024}, "Minimum memory limit allowed is 6MB"),
        ({"Memory": -5}, "Minimum memory limit allowed is 6MB"),
        ({"NanoCpus": 10**15}, "Range of CPUs is from 0.01"),
        ({"CpuShares": -1}, "invalid CPU shares"),
    ],
)
def test_bad_limits_are_refused(host_config, message) -> None:
    with pytest.raises(SpecError, match=message):
        runtime_spec.resources(host_config)


def test_build_fills_what_the_daemon_decides(tmp_path) -> None:
    spec = runtime_spec.build(
        "a" * 64,
        ["sh"],
        {"Tty": True, "WorkingDir": "/tmp", "Env": ["PATH=/bin", "HOSTNAME=mine"],
         "Hostname": "myhost"},
        {"NetworkMode": "host", "ConsoleSize": [24, 80]},
        str(tmp_path),
        User(uid=1, gid=2, home="/home/x"),
    )
    process = spec["process"]
    assert process["args"] == ["sh"]
    assert process["terminal"] is True
    assert process["cwd"] == "/tmp"
    assert process["user"] == {"uid": 1, "gid": 2}
    assert "TERM=xterm" in process["env"] and "HOME=/home/x" in process["env"]
    assert "HOSTNAME=mine" in process["env"]  # the container's own env wins over the daemon's
    assert process["consoleSize"] == {"height": 24, "width": 80}
    assert spec["hostname"] == "myhost"
    assert spec["linux"]["cgroupsPath"] == "/whalebones/" + "a" * 64
    assert "network" not in {n["type"] for n in spec["linux"]["namespaces"]}


def test_users_resolve_in_the_containers_own_files(tmp_path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/home:/bin/false\n"
    )
    (etc / "group").write_text("root:x:0:\nnogroup:x:65534:\nwheel:x:10:nobody\n")
    assert users.resolve(str(tmp_path), "") == User(0, 0, (), "/root")
    assert users.resolve(str(tmp_path), "nobody") == User(65534, 65534, (10,), "/home")
    assert users.resolve(str(tmp_path), "1000:1000") == User(1000, 1000, (), "/")
    assert users.resolve(str(tmp_path), "nobody:wheel").gid == 10
    with pytest.raises(SpecError, match="unable to find user ghost"):
        users.resolve(str(tmp_path), "ghost")


def test_users_never_follow_a_symlink_out_of_the_rootfs(tmp_path) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").symlink_to("/etc/passwd")  # absolute: resolved inside the rootfs
    with pytest.raises(SpecError):
        users.resolve(str(tmp_path), "root")
