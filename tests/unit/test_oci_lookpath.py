"""shared/oci/lookpath.py on a fake root filesystem in a temporary directory (no
container): runc's words for each way a command cannot run. The behaviour suite checks
the same words, and the exit codes 127 and 126, on real containers."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.oci.lookpath import DEFAULT_PATH, LookPathError, NotExecutable, NotFound, look_path


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "bin" / "busybox").write_text("#!\n")
    (root / "bin" / "busybox").chmod(0o755)
    (root / "bin" / "sh").symlink_to("/bin/busybox")  # absolute: resolved inside root
    (root / "usr" / "bin" / "data").write_text("not a program\n")
    (root / "usr" / "bin" / "data").chmod(0o644)
    (root / "usr" / "bin" / "tools").mkdir()
    return root


def test_found_in_path_as_the_container_sees_it(rootfs: Path) -> None:
    assert look_path("busybox", DEFAULT_PATH, root=str(rootfs)) == "/bin/busybox"
    assert look_path("sh", "/usr/bin:/bin", root=str(rootfs)) == "/bin/sh"
    assert look_path("/bin/sh", root=str(rootfs)) == "/bin/sh"


@pytest.mark.parametrize("name, path, error, message", [
    ("nosuch", DEFAULT_PATH, NotFound, 'exec: "nosuch": executable file not found in $PATH'),
    ("busybox", "/usr/bin", NotFound, 'exec: "busybox": executable file not found in $PATH'),
    ("/nosuch", DEFAULT_PATH, NotFound,
     'exec: "/nosuch": stat /nosuch: no such file or directory'),
    ("/usr/bin/data", DEFAULT_PATH, NotExecutable, 'exec: "/usr/bin/data": permission denied'),
    ("data", DEFAULT_PATH, NotExecutable, 'exec: "data": permission denied'),
    ("/usr/bin/tools", DEFAULT_PATH, NotExecutable,
     'exec: "/usr/bin/tools": is a directory: permission denied'),
])
def test_runcs_words(rootfs: Path, name: str, path: str, error: type[LookPathError],
                     message: str) -> None:
    with pytest.raises(error) as info:
        look_path(name, path, root=str(rootfs))
    assert str(info.value) == message


def test_inside_the_container_root_is_slash(rootfs: Path) -> None:
    # As libcontainer's init looks, after pivot_root: paths are taken as they are.
    assert look_path("busybox", f"{rootfs}/usr/bin:{rootfs}/bin") == f"{rootfs}/bin/busybox"
    with pytest.raises(LookPathError):
        look_path("busybox", "/nonexistent-whalebones")
