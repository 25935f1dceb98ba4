"""containerd's own cgroup reader (stages/stage3_containerd/containerd/cgroups.py), on
fake cgroup trees in a temporary directory: no root, no kernel cgroups. The real
counters are read by the OOM tests of tests/stages and the behaviour suite."""

from __future__ import annotations

from pathlib import Path

from stages.stage3_containerd.containerd import cgroups

V2_EVENTS = "low 0\nhigh 0\nmax 3\noom {oom}\noom_kill {kills}\noom_group_kill 0\n"
V1_OOM_CONTROL = "oom_kill_disable 0\nunder_oom 0\noom_kill {kills}\n"


def _v2_root(tmp_path: Path, kills: int) -> Path:
    root = tmp_path / "unified"
    (root / "whalebones" / "c1").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "whalebones" / "c1" / "memory.events").write_text(
        V2_EVENTS.format(oom=kills, kills=kills))
    return root


def test_v2_reads_oom_kill_from_memory_events(tmp_path: Path) -> None:
    root = _v2_root(tmp_path, kills=1)
    assert cgroups.is_unified(str(root))
    # the spec's cgroupsPath with or without its slashes names the same cgroup
    assert cgroups.oom_killed("/whalebones/c1", root=str(root))
    assert cgroups.oom_killed("whalebones/c1/", root=str(root))
    assert not cgroups.oom_killed("/whalebones/c1", root=str(_v2_root(tmp_path / "0", 0)))


def test_v2_missing_cgroup_is_no_oom(tmp_path: Path) -> None:
    root = _v2_root(tmp_path, kills=1)
    assert not cgroups.oom_killed("/whalebones/gone", root=str(root))


def _mountinfo(tmp_path: Path, memory: Path) -> Path:
    """A hybrid host's mountinfo: v1 controllers, an empty v2 tree beside them."""
    lines = [
        "22 1 0:21 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755",
        "23 22 0:22 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate",
        "25 22 0:24 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct",
        f"27 22 0:26 / {memory} rw,nosuid - cgroup cgroup rw,memory",
        "28 22 0:27 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids",
    ]
    path = tmp_path / "mountinfo"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_v1_reads_oom_kill_from_the_memory_hierarchy(tmp_path: Path) -> None:
    memory = tmp_path / "memory"
    (memory / "whalebones" / "c1").mkdir(parents=True)
    oom_control = memory / "whalebones" / "c1" / "memory.oom_control"
    mountinfo = str(_mountinfo(tmp_path, memory))
    not_unified = str(tmp_path / "no-v2-root")
    assert cgroups.v1_mount("memory", mountinfo) == str(memory)
    assert cgroups.v1_mount("cpuacct", mountinfo) == "/sys/fs/cgroup/cpu,cpuacct"
    assert cgroups.v1_mount("freezer", mountinfo) is None

    oom_control.write_text(V1_OOM_CONTROL.format(kills=0))
    assert not cgroups.oom_killed("/whalebones/c1", root=not_unified, mountinfo=mountinfo)
    oom_control.write_text(V1_OOM_CONTROL.format(kills=2))
    assert cgroups.oom_killed("/whalebones/c1", root=not_unified, mountinfo=mountinfo)


def test_v1_without_a_memory_hierarchy_is_no_oom(tmp_path: Path) -> None:
    path = tmp_path / "mountinfo"
    path.write_text("25 22 0:24 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n")
    assert not cgroups.oom_killed("/whalebones/c1", root=str(tmp_path), mountinfo=str(path))
