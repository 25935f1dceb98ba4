"""Where libcontainer mounts: on a descriptor opened inside the rootfs, never through a
symlink the image planted or swapped in (stages/stage2_libcontainer/libcontainer/rootfs.py).

Unit tests against a FAKE kernel (tests/unit/test_init_order.py's RecordingKernel:
nothing is mounted, no root needed); the mount points are real files and directories
in a temporary rootfs. The attack on real containers is tests/security/test_proc_symlink.py.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from stages.stage2_libcontainer.libcontainer import rootfs
from stages.stage2_libcontainer.libcontainer.configs import Mount
from stages.stage2_libcontainer.libcontainer.errors import ContainerError, SyscallError, os_error
from stages.stage2_libcontainer.libcontainer.kernel import Kernel
from tests.unit.test_init_order import RecordingKernel


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "rootfs" / "etc").mkdir(parents=True)
    return tmp_path / "rootfs"


@pytest.mark.parametrize("kind", ["proc", "sysfs"])
@pytest.mark.parametrize("planted", ["symlink to /etc", "symlink outside", "file"])
def test_proc_and_sysfs_refuse_anything_but_a_directory(root: Path, kind: str,
                                                        planted: str) -> None:
    dest = root / ("proc" if kind == "proc" else "sys")
    if planted == "file":
        dest.touch()
    else:
        dest.symlink_to("/etc" if planted == "symlink to /etc" else "../../..")
    kernel = RecordingKernel()
    with pytest.raises(ContainerError, match="must be mounted on ordinary directory"):
        rootfs.mount_one(kernel, str(root), Mount(f"/{dest.name}", kind, kind))
    assert kernel.calls == []  # nothing mounted, anywhere


def test_a_mount_goes_on_the_descriptor_of_the_resolved_directory(root: Path) -> None:
    """/run -> /etc in the image: the tmpfs goes on the rootfs's etc (resolved inside),
    through /proc/self/fd/N (the recorder shows the path that descriptor names)."""
    (root / "run").symlink_to("/etc")
    kernel = RecordingKernel()
    seen: list[str] = []

    class Watching(RecordingKernel):
        def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
                  data: str = "") -> None:
            seen.append(target)
            super().mount(source, target, fstype, flags, data)

    kernel = Watching()
    rootfs.mount_one(kernel, str(root), Mount("/run", "tmpfs", "tmpfs", ["nosuid"]))
    assert seen[0].startswith("/proc/self/fd/")
    assert kernel.calls == [("mount", ("tmpfs", str(root / "etc"), "tmpfs",
                                       rootfs.FLAGS["nosuid"][1], ""))]


def test_a_last_component_swapped_for_a_symlink_is_refused(root: Path) -> None:
    dest = rootfs.secure_join(str(root), "/data")
    os.symlink("/etc", dest)  # swapped in after the resolution, before the open
    with pytest.raises(ContainerError, match="possibly malicious path"):
        with rootfs.mount_point(str(root), dest):
            pytest.fail("mounted through a symlink")


def test_a_directory_on_the_way_swapped_for_a_symlink_is_refused(root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / "elsewhere" / "b").mkdir(parents=True)
    dest = rootfs.secure_join(str(root), "/a/b")
    (root / "a" / "b").rmdir()
    (root / "a").rmdir()
    (root / "a").symlink_to(root / "elsewhere")  # what a racing process would do
    with pytest.raises(ContainerError, match="resolves to .*elsewhere/b"):
        with rootfs.mount_point(str(root), dest):
            pytest.fail("mounted on the wrong directory")


def test_a_failed_mount_names_the_path_not_the_descriptor(root: Path) -> None:
    class Refusing(Kernel):
        def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
                  data: str = "") -> None:
            raise os_error(f"mount {fstype} on {target}", errno.EPERM)

    with pytest.raises(SyscallError) as raised:
        rootfs.mount_one(Refusing(), str(root), Mount("/tmp", "tmpfs", "tmpfs"))
    assert str(root / "tmp") in str(raised.value)
    assert "/proc/self/fd" not in str(raised.value)
