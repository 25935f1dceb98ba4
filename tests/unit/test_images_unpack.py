"""Layer unpacking: every way out of the layer dir is refused, and what the kernel needs
(whiteouts in overlayfs form, owners, modes, devices, links, mtimes) is kept.

Crafted tars on a temporary store root; no fakes. Tests marked root make device nodes
and set trusted.* xattrs, which only root may do."""

from __future__ import annotations

import io
import os
import stat

import pytest

from shared.images.store import ImageStore
from shared.images.unpack import UnsafeLayer, unpack
from tests.images.tarballs import Entry, image, layer

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="mknod and trusted.* xattrs need root")


@pytest.fixture
def victim(tmp_path):
    """A directory outside the store that no layer may touch."""
    path = tmp_path / "victim"
    path.mkdir()
    (path / "secret").write_text("keep me\n")
    return path


def snapshot(path) -> dict[str, tuple]:
    """Every name under path with its type, size and (for files) mtime; the store's
    lock files, which only grow, are left out."""
    out = {}
    for d, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(d, name)
            st = os.lstat(full)
            mtime = None if stat.S_ISDIR(st.st_mode) else st.st_mtime_ns
            out[os.path.relpath(full, path)] = (st.st_mode, st.st_size, mtime)
    return {name: v for name, v in out.items() if not name.startswith("locks")}


def malicious_layers(victim) -> dict[str, tuple[list[Entry], str]]:
    ok = Entry("fine", data=b"fine\n")
    return {
        "absolute path": ([ok, Entry(str(victim / "new"), data=b"x")], "absolute path"),
        "dot-dot": ([ok, Entry("../../../../victim/new", data=b"x")], "'..'"),
        "dot-dot inside": ([Entry("a", "dir", mode=0o755), Entry("a/../../x", data=b"x")], "'..'"),
        "write through symlink": (
            [Entry("etc", "symlink", link=str(victim)), Entry("etc/new", data=b"x")],
            "through the symlink 'etc'",
        ),
        "write through relative symlink": (
            [Entry("up", "symlink", link="../../../.."), Entry("up/new", data=b"x")],
            "through the symlink 'up'",
        ),
        "write through nested symlink": (
            [
                Entry("a", "dir", mode=0o755),
                Entry("a/b", "symlink", link=str(victim)),
                Entry("a/b/c", "dir", mode=0o755),
            ],
            "through the symlink 'b'",
        ),
        "hard link to absolute path": (
            [Entry("h", "hardlink", link=str(victim / "secret"))],
            "absolute path",
        ),
        "hard link with dot-dot": (
            [Entry("h", "hardlink", link="../../../../victim/secret")],
            "'..'",
        ),
        "hard link through symlink": (
            [Entry("v", "symlink", link=str(victim)), Entry("h", "hardlink", link="v/secret")],
            "through the symlink 'v'",
        ),
        "hard link to a file not in the layer": (
            [Entry("h", "hardlink", link="etc/passwd")],
            "not in this layer",
        ),
        "whiteout of dot-dot": ([Entry(".wh...", data=b"")], "whiteout"),
    }


def test_each_escape_is_refused_and_the_store_is_unchanged(tmp_path, victim):
    store = ImageStore(str(tmp_path / "images"))
    for case, (entries, message) in malicious_layers(victim).items():
        manifest, config, blobs = image(layer(*entries))
        img = store.add_image(manifest, config, blobs, tags=["evil:latest"])
        before = snapshot(store.root), snapshot(victim)
        with pytest.raises(UnsafeLayer, match=message):
            store.layer_dirs(img)
        assert (snapshot(store.root), snapshot(victim)) == before, case
        assert os.listdir(store.layers) == [], case
        assert (victim / "secret").read_text() == "keep me\n"


def test_a_later_entry_replaces_a_symlink_instead_of_following_it(tmp_path, victim):
    dest = tmp_path / "layer"
    dest.mkdir()
    tar = layer(
        Entry("f", "symlink", link=str(victim / "secret")),
        Entry("f", data=b"mine\n"),
        Entry("d", "symlink", link=str(victim)),
        Entry("d", "dir", mode=0o755),
        Entry("d/x", data=b"x"),
    )
    unpack(io.BytesIO(tar), str(dest))
    assert (victim / "secret").read_text() == "keep me\n" and os.listdir(victim) == ["secret"]
    assert stat.S_ISREG(os.lstat(dest / "f").st_mode) and (dest / "f").read_text() == "mine\n"
    assert stat.S_ISDIR(os.lstat(dest / "d").st_mode) and (dest / "d/x").read_bytes() == b"x"


@root_only
def test_whiteouts_become_overlayfs_whiteouts(tmp_path):
    dest = tmp_path / "layer"
    dest.mkdir()
    tar = layer(
        Entry(".wh.gone", data=b""),
        Entry("opq", "dir", mode=0o755),
        Entry("opq/.wh..wh..opq", data=b""),
        Entry("opq/new", data=b"new\n"),
        Entry("deep", "dir", mode=0o755),
        Entry("deep/.wh.old", data=b""),
    )
    unpack(io.BytesIO(tar), str(dest))
    for whiteout in ("gone", "deep/old"):
        st = os.lstat(dest / whiteout)
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0), whiteout
    assert os.getxattr(dest / "opq", "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(dest)) == ["deep", "gone", "opq"]
    assert os.listdir(dest / "opq") == ["new"]


@root_only
def test_owners_modes_links_devices_and_mtimes_are_kept(tmp_path):
    dest = tmp_path / "layer"
    dest.mkdir()
    tar = layer(
        Entry("./", "dir", mode=0o755, mtime=111),
        Entry("d", "dir", mode=0o750, uid=1000, gid=1001, mtime=222),
        Entry(
            "d/x",
            data=b"data",
            mode=0o4755,
            uid=1000,
            gid=1001,
            mtime=333,
            pax={"SCHILY.xattr.user.note": "hello"},
        ),
        Entry("d/y", "hardlink", link="d/x"),
        Entry("s", "symlink", link="/d/x", mtime=444),
        Entry("null", "char", mode=0o666, major=1, minor=3),
        Entry("loop0", "block", mode=0o660, major=7, minor=0),
        Entry("pipe", "fifo", mode=0o600),
        Entry("tmp", "dir", mode=0o1777),
    )
    digest, size = unpack(io.BytesIO(tar), str(dest))
    assert size == 4
    x = os.lstat(dest / "d/x")
    assert (x.st_uid, x.st_gid, stat.S_IMODE(x.st_mode), x.st_mtime) == (1000, 1001, 0o4755, 333)
    assert os.getxattr(dest / "d/x", "user.note") == b"hello"
    assert os.lstat(dest / "d/y").st_ino == x.st_ino and x.st_nlink == 2
    d = os.lstat(dest / "d")
    assert (d.st_uid, stat.S_IMODE(d.st_mode), d.st_mtime) == (1000, 0o750, 222)
    assert os.readlink(dest / "s") == "/d/x" and os.lstat(dest / "s").st_mtime == 444
    null = os.lstat(dest / "null")
    assert stat.S_ISCHR(null.st_mode) and null.st_rdev == os.makedev(1, 3)
    assert stat.S_ISBLK(os.lstat(dest / "loop0").st_mode)
    assert stat.S_ISFIFO(os.lstat(dest / "pipe").st_mode)
    assert stat.S_IMODE(os.lstat(dest / "tmp").st_mode) == 0o1777
    assert os.lstat(dest).st_mtime == 111
