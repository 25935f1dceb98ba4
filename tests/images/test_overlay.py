"""A real overlayfs mount of two unpacked layers, one with whiteouts (needs root)."""

from __future__ import annotations

import os
import stat

import pytest

from shared.images import snapshots
from shared.images.store import ImageStore
from tests.images.tarballs import Entry, image, layer

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting overlayfs needs root")

LOWER = layer(
    Entry("a", data=b"a\n"),
    Entry("b", "dir", mode=0o755),
    Entry("b/c", data=b"c\n"),
    Entry("d", "dir", mode=0o755),
    Entry("d/e", data=b"e\n"),
)
UPPER = layer(
    Entry(".wh.a", data=b""),  # delete /a
    Entry("d", "dir", mode=0o755),
    Entry("d/.wh..wh..opq", data=b""),  # hide all of the lower /d
    Entry("d/f", data=b"f\n"),
    Entry("new", data=b"new\n"),
)


def mounted(path: str) -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def test_merged_view_honours_whiteouts(tmp_path):
    store = ImageStore(str(tmp_path / "images"))
    manifest, config, blobs = image(LOWER, UPPER)
    img = store.add_image(manifest, config, blobs, tags=["layered:1"])
    container = tmp_path / "container"
    rootfs = container / "rootfs"
    rootfs.mkdir(parents=True)

    mounts = snapshots.prepare(store, str(container), img)
    lower_dirs = store.layer_dirs(img)
    assert mounts[0].type == "overlay" and mounts[0].options == (
        f"lowerdir={lower_dirs[1]}:{lower_dirs[0]}",  # topmost first
        f"upperdir={container}/upper",
        f"workdir={container}/work",
    )
    snapshots.mount_all(mounts, str(rootfs))
    try:
        assert mounted(str(rootfs))
        assert sorted(os.listdir(rootfs)) == ["b", "d", "new"]
        assert (rootfs / "b/c").read_text() == "c\n"
        assert os.listdir(rootfs / "d") == ["f"]
        # The container's own changes land in upper, never in the shared layers.
        (rootfs / "b/c").unlink()
        (rootfs / "written").write_text("mine\n")
    finally:
        snapshots.unmount(str(rootfs))
    assert not mounted(str(rootfs))
    assert (container / "upper/written").read_text() == "mine\n"
    assert stat.S_ISCHR(os.lstat(container / "upper/b/c").st_mode)
    assert os.path.exists(os.path.join(lower_dirs[0], "b/c"))

    snapshots.remove(str(container))
    assert sorted(os.listdir(container)) == ["rootfs"]


def test_mount_errors_name_the_operation_and_path(tmp_path):
    missing = str(tmp_path / "missing")
    with pytest.raises(OSError, match=f"mount overlay on {missing}: ENOENT"):
        snapshots.mount_all(
            [snapshots.Mount("overlay", "overlay", (f"lowerdir={tmp_path}",))], missing
        )
    with pytest.raises(OSError, match=f"umount {tmp_path}: EINVAL"):
        snapshots.unmount(str(tmp_path))
