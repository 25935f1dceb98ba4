"""layerdiff: an upper dir made by hand (as overlayfs would leave it: a 0/0 character
device for a deletion, the opaque xattr on a directory made again) written as a layer.
Needs root (mknod, trusted.* xattrs), as the daemon does."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from shared.images.layerdiff import write_layer

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mknod and trusted.* need root")


def test_overlay_whiteouts_become_oci_whiteouts(tmp_path: Path) -> None:
    upper, lower = tmp_path / "upper", tmp_path / "lower"
    for d in (upper / "etc", upper / "opt", lower / "etc", lower / "opt" / "old"):
        d.mkdir(parents=True)
    (upper / "etc" / "new").write_text("x")
    os.mknod(upper / "etc" / "motd", 0o600 | 0o020000, os.makedev(0, 0))  # S_IFCHR 0/0
    os.setxattr(upper / "opt", "trusted.overlay.opaque", b"y")
    os.chmod(upper / "opt", 0o750)
    (upper / "opt" / "fresh").write_text("y")
    (upper / "etc" / "hosts").write_text("mount point")  # the runtime's: left out
    out = io.BytesIO()
    assert write_layer(str(upper), out, [str(lower)]) == 6
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == ["etc", "etc/.wh.motd", "etc/new", "opt", "opt/.wh..wh..opq",
                               "opt/fresh"]
    assert members["etc/.wh.motd"].isfile() and members["etc/.wh.motd"].size == 0
    assert members["opt/.wh..wh..opq"].isfile() and members["opt/.wh..wh..opq"].mode == 0o750


def test_a_directory_copied_up_only_for_mount_points_is_no_change(tmp_path: Path) -> None:
    upper, lower = tmp_path / "upper", tmp_path / "lower"
    (upper / "etc").mkdir(parents=True)
    (lower / "etc").mkdir(parents=True)
    for name in ("hosts", "hostname", "resolv.conf"):
        (upper / "etc" / name).write_text("")
    out = io.BytesIO()
    assert write_layer(str(upper), out, [str(lower)]) == 0
