"""Unit tests (real files in a temporary directory, root for the chowns; no daemon): the
build context and COPY/ADD's rules, shared/build/context.py.

The expected behaviour is the classic builder's (moby daemon/builder/dockerfile/copy.go,
internals.go performCopy, copy_unix.go fixPermissions, remotecontext/detect.go); the
attacks on the same code are in tests/security/test_build_context_escapes.py.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from shared.build import context
from shared.build.context import ContextError

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")


def make_tar(entries: list[tuple[str, bytes | None, dict]], compression: str = "") -> bytes:
    """A tar of (name, data or None for a directory, TarInfo attributes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:" + compression) as tar:
        for name, data, attrs in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1_600_000_000
            if data is None and "type" not in attrs:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            for key, value in attrs.items():
                setattr(info, key, value)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    """A context: files, a directory tree, a symlink, as a client would send them."""
    root = tmp_path / "context"
    root.mkdir()
    tar = make_tar([
        ("Dockerfile", b"FROM busybox\n", {}),
        ("app.py", b"print('hi')\n", {"mode": 0o755}),
        ("conf", None, {}),
        ("conf/a.ini", b"a=1\n", {"mode": 0o640}),
        ("conf/sub", None, {}),
        ("conf/sub/b.ini", b"b=2\n", {}),
        ("data.txt", b"data\n", {}),
        ("link", None, {"type": tarfile.SYMTYPE, "linkname": "conf/a.ini"}),
        ("notes.md", b"# notes\n", {}),
    ])
    context.unpack(io.BytesIO(tar), str(root))
    return root


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    """An image's root: /etc/passwd and /etc/group with names, /bin a directory."""
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n"
                                         "app:x:1000:1001::/home/app:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\napp:x:1001:\nstaff:x:50:\n")
    return root


def test_unpack_keeps_files_modes_and_symlinks(ctx: Path) -> None:
    assert (ctx / "app.py").read_bytes() == b"print('hi')\n"
    assert stat.S_IMODE((ctx / "conf" / "a.ini").stat().st_mode) == 0o640
    assert os.readlink(ctx / "link") == "conf/a.ini"


def test_unpack_compressed_contexts(tmp_path: Path) -> None:
    for compression in ("gz", "bz2", "xz"):
        dest = tmp_path / compression
        dest.mkdir()
        context.unpack(io.BytesIO(make_tar([("f", b"x", {})], compression)), str(dest))
        assert (dest / "f").read_bytes() == b"x"


def test_unpack_refuses_what_is_not_a_tar(tmp_path: Path) -> None:
    with pytest.raises(tarfile.ReadError):
        context.unpack(io.BytesIO(b"not a tar at all" * 64), str(tmp_path))


def test_read_dockerfile(ctx: Path) -> None:
    assert context.read_dockerfile(str(ctx)) == ("Dockerfile", "FROM busybox\n")
    os.rename(ctx / "Dockerfile", ctx / "dockerfile")
    assert context.read_dockerfile(str(ctx))[0] == "dockerfile"  # the lower case fallback
    with pytest.raises(ContextError, match="^Cannot locate specified Dockerfile: Other$"):
        context.read_dockerfile(str(ctx), "Other")
    (ctx / "Empty").write_bytes(b"")
    with pytest.raises(ContextError, match=r"^the Dockerfile \(Empty\) cannot be empty$"):
        context.read_dockerfile(str(ctx), "Empty")


def test_ignored_dockerfile_and_dockerignore_are_removed(ctx: Path) -> None:
    (ctx / ".dockerignore").write_text("Dockerfile\n.dockerignore\n*.md\n")
    context.remove_build_files(str(ctx))
    assert not (ctx / "Dockerfile").exists() and not (ctx / ".dockerignore").exists()
    assert (ctx / "notes.md").exists()  # the client's job, not the daemon's


def test_sources_and_wildcards(ctx: Path) -> None:
    found = context.resolve_sources(str(ctx), ["app.py", "/conf", "./data.txt"])
    assert [(s.name, s.path, s.is_dir) for s in found] == [
        ("app.py", "app.py", False), ("conf", "conf", True), ("data.txt", "data.txt", False)]
    assert found[0].digest.startswith("file:") and found[1].digest.startswith("dir:")
    wild = context.resolve_sources(str(ctx), ["*.py", "conf/*.ini", "d?ta.[a-z]xt"])
    assert [s.name for s in wild] == ["app.py", "conf/a.ini", "data.txt"]
    # a symlink is followed inside the context; the name stays the link's
    (link,) = context.resolve_sources(str(ctx), ["link"])
    assert (link.name, link.path) == ("link", "conf/a.ini")


@pytest.mark.parametrize(("sources", "command", "message"), [
    (["missing"], "COPY", "COPY failed: file not found in build context or excluded by "
                          ".dockerignore: stat missing: file does not exist"),
    (["*.nothing"], "COPY", "COPY failed: no source files were specified"),
    # reference: "COPY failed: forbidden path outside the build context: ../x ()"
    (["../outside"], "COPY", "COPY failed: forbidden path outside the build context: "
                             "../outside ()"),
    (["/conf/../../x"], "ADD", "ADD failed: forbidden path outside the build context: "
                               "conf/../../x ()"),
    (["http://example.com/f"], "COPY", "COPY failed: source can't be a URL for COPY"),
])
def test_source_errors(ctx: Path, sources: list[str], command: str, message: str) -> None:
    with pytest.raises(ContextError) as err:
        context.resolve_sources(str(ctx), sources, command)
    assert str(err.value) == message


def test_add_refuses_urls_offline(ctx: Path) -> None:
    with pytest.raises(ContextError, match="^ADD failed: https://example.com/x.tgz: this "
                                           "daemon does not download URLs"):
        context.resolve_sources(str(ctx), ["https://example.com/x.tgz"], "ADD")


def test_digest_follows_content_and_metadata_not_mtime(ctx: Path) -> None:
    before = context.sources_digest(str(ctx), ["conf"])
    os.utime(ctx / "conf" / "sub" / "b.ini", (1, 1))
    assert context.sources_digest(str(ctx), ["conf"]) == before
    (ctx / "conf" / "sub" / "b.ini").write_text("b=3\n")
    changed = context.sources_digest(str(ctx), ["conf"])
    assert changed != before
    os.chmod(ctx / "conf" / "sub" / "b.ini", 0o600)
    assert context.sources_digest(str(ctx), ["conf"]) != changed
    assert context.sources_digest(str(ctx), ["app.py", "data.txt"]).startswith("multi:")


def test_normalize_dest() -> None:
    assert context.normalize_dest("/app", "x") == "/app/x"
    assert context.normalize_dest("/app", "x/") == "/app/x/"
    assert context.normalize_dest("", ".") == "/"
    assert context.normalize_dest("/w", "/abs/") == "/abs/"


@needs_root
def test_copy_a_file_into_and_onto(ctx: Path, rootfs: Path) -> None:
    context.copy_sources(str(ctx), ["app.py"], str(rootfs), "/opt/")
    copied = rootfs / "opt" / "app.py"
    assert copied.read_bytes() == b"print('hi')\n"
    st = copied.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, 0o755)
    assert st.st_mtime == 1_600_000_000
    context.copy_sources(str(ctx), ["data.txt"], str(rootfs), "/opt/renamed")
    assert (rootfs / "opt" / "renamed").read_bytes() == b"data\n"
    context.copy_sources(str(ctx), ["data.txt"], str(rootfs), "/bin")  # an existing dir
    assert (rootfs / "bin" / "data.txt").exists()
    with pytest.raises(ContextError, match="^When using COPY with more than one source "
                                           "file, the destination must be a directory"):
        context.copy_sources(str(ctx), ["app.py", "data.txt"], str(rootfs), "/opt")


@needs_root
def test_copy_a_directory_copies_its_contents(ctx: Path, rootfs: Path) -> None:
    context.copy_sources(str(ctx), ["conf"], str(rootfs), "/etc/app")
    assert sorted(os.listdir(rootfs / "etc" / "app")) == ["a.ini", "sub"]
    assert (rootfs / "etc" / "app" / "sub" / "b.ini").read_bytes() == b"b=2\n"
    assert stat.S_IMODE((rootfs / "etc" / "app" / "a.ini").stat().st_mode) == 0o640


@needs_root
def test_chown_by_number_and_by_name(ctx: Path, rootfs: Path) -> None:
    context.copy_sources(str(ctx), ["conf"], str(rootfs), "/srv/conf", chown="app:staff")
    for path in (rootfs / "srv" / "conf", rootfs / "srv" / "conf" / "sub" / "b.ini"):
        assert (path.stat().st_uid, path.stat().st_gid) == (1000, 50)
    assert (rootfs / "srv").stat().st_uid == 0  # made by MkdirAll, not chowned
    context.copy_sources(str(ctx), ["app.py"], str(rootfs), "/new/dir/", chown="4242")
    assert (rootfs / "new").stat().st_uid == 4242  # parents of a file: "only new" chowned
    st = (rootfs / "new" / "dir" / "app.py").stat()
    assert (st.st_uid, st.st_gid) == (4242, 4242)
    # a lone user name is also looked up as the group's name, as dockerd does
    context.copy_sources(str(ctx), ["data.txt"], str(rootfs), "/u", chown="app")
    assert ((rootfs / "u").stat().st_uid, (rootfs / "u").stat().st_gid) == (1000, 1001)


@pytest.mark.parametrize(("chown", "message"), [
    ("nobody", "unable to convert uid/gid chown string to host mapping: can't find uid for "
               "user nobody: no such user: nobody"),
    ("app:nogroup", "unable to convert uid/gid chown string to host mapping: can't find gid "
                    "for group nogroup: no such group: nogroup"),
    ("a:b:c", "unable to convert uid/gid chown string to host mapping: invalid chown string "
              "format: a:b:c"),
])
def test_chown_errors(rootfs: Path, chown: str, message: str) -> None:
    with pytest.raises(ContextError) as err:
        context.parse_chown(chown, str(rootfs))
    assert str(err.value) == message


def test_chown_without_passwd(tmp_path: Path) -> None:
    with pytest.raises(ContextError) as err:
        context.parse_chown("app", str(tmp_path))
    assert str(err.value).endswith("can't find uid for user app: open /etc/passwd: no such "
                                   "file or directory")
    assert context.parse_chown("1:2", str(tmp_path)) == (1, 2)


@needs_root
def test_copy_from_keeps_owners(tmp_path: Path, rootfs: Path) -> None:
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "built").write_text("x")
    os.chown(stage / "built", 123, 456)
    context.copy_sources(str(stage), ["/built"], str(rootfs), "/b", preserve_owner=True)
    assert ((rootfs / "b").stat().st_uid, (rootfs / "b").stat().st_gid) == (123, 456)


@needs_root
def test_add_unpacks_local_archives(ctx: Path, rootfs: Path) -> None:
    for compression in ("", "gz", "bz2", "xz"):
        archive = make_tar([("pkg", None, {}), ("pkg/file", compression.encode() or b"-",
                                                 {"uid": 7, "gid": 8})], compression)
        (ctx / f"a{compression}.tar").write_bytes(archive)
        context.copy_sources(str(ctx), [f"a{compression}.tar"], str(rootfs), f"/x{compression}",
                             unpack=True)
        unpacked = rootfs / f"x{compression}" / "pkg" / "file"
        assert unpacked.read_bytes() == (compression.encode() or b"-")
        assert (unpacked.stat().st_uid, unpacked.stat().st_gid) == (7, 8)  # the tar's owners
    # not an archive: ADD copies it as a file; COPY never unpacks
    context.copy_sources(str(ctx), ["data.txt"], str(rootfs), "/plain", unpack=True)
    assert (rootfs / "plain").read_bytes() == b"data\n"
    context.copy_sources(str(ctx), ["a.tar"], str(rootfs), "/copied.tar")
    assert (rootfs / "copied.tar").read_bytes() == (ctx / "a.tar").read_bytes()


@needs_root
def test_hard_links_stay_links(tmp_path: Path, rootfs: Path) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "one").write_text("same")
    os.link(src / "d" / "one", src / "d" / "two")
    context.copy_sources(str(src), ["d"], str(rootfs), "/d")
    assert (rootfs / "d" / "one").stat().st_ino == (rootfs / "d" / "two").stat().st_ino


@needs_root
def test_symlinks_are_copied_as_symlinks_inside_a_directory(tmp_path: Path,
                                                            rootfs: Path) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    os.symlink("/etc/shadow", src / "d" / "l")
    context.copy_sources(str(src), ["d"], str(rootfs), "/d")
    assert os.readlink(rootfs / "d" / "l") == "/etc/shadow"


@needs_root
def test_no_descriptor_is_left_open(ctx: Path, rootfs: Path) -> None:
    """A descriptor left open in the image's root keeps its mount busy (EBUSY at the
    unmount after the step)."""
    before = len(os.listdir("/proc/self/fd"))
    context.copy_sources(str(ctx), ["conf"], str(rootfs), "/a/b")
    context.copy_sources(str(ctx), ["app.py", "link"], str(rootfs), "/c/", chown="app")
    (ctx / "x.tar").write_bytes(make_tar([("f", b"x", {})]))
    context.copy_sources(str(ctx), ["x.tar"], str(rootfs), "/d", unpack=True)
    context.sources_digest(str(ctx), ["*"])
    context.remove_build_files(str(ctx))
    assert len(os.listdir("/proc/self/fd")) == before


@needs_root
def test_owners_and_modes_as_the_reference_leaves_them(tmp_path: Path) -> None:
    """The same COPYs built by the reference dockerd 20.10 (DOCKER_BUILDKIT=0) gave,
    by `stat -c '%n %u:%g %a'`, the owners asserted here."""
    ctx = tmp_path / "ctx"
    (ctx / "d" / "sub").mkdir(parents=True)
    (ctx / "f").write_text("f")
    (ctx / "d" / "sub" / "g").write_text("g")
    for path in (ctx / "f", ctx / "d" / "sub" / "g"):
        os.chmod(path, 0o644)
    for path in (ctx / "d", ctx / "d" / "sub"):
        os.chmod(path, 0o755)
    os.symlink("f", ctx / "link")
    (ctx / "a.tar").write_bytes(make_tar([("pkg/file", b"z", {"uid": 7, "gid": 8,
                                                             "mode": 0o644})]))
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\napp:x:1000:50::/:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\napp:x:1001:\n")
    (root / "exists").mkdir()
    os.chown(root / "exists", 7, 7)
    os.chmod(root / "exists", 0o755)
    copy = context.copy_sources
    copy(str(ctx), ["f"], str(root), "/u", chown="app")
    copy(str(ctx), ["f"], str(root), "/p/q/", chown="4242")
    copy(str(ctx), ["d"], str(root), "/new/a/b", chown="5")
    copy(str(ctx), ["d"], str(root), "/exists", chown="6")
    copy(str(ctx), ["d"], str(root), "/plain")
    copy(str(ctx), ["link"], str(root), "/viafollow")
    copy(str(ctx), ["a.tar"], str(root), "/x/", unpack=True)
    expected = """/u 1000:1001 644
/p 4242:4242 755
/p/q 4242:4242 755
/p/q/f 4242:4242 644
/new 0:0 755
/new/a 0:0 755
/new/a/b 5:5 755
/new/a/b/sub 5:5 755
/new/a/b/sub/g 5:5 644
/exists 7:7 755
/exists/sub 6:6 755
/plain/sub/g 0:0 644
/viafollow 0:0 644
/x/pkg/file 7:8 644"""
    for line in expected.splitlines():
        name, owner, mode = line.split()
        st = os.lstat(root / name.lstrip("/"))
        assert (name, f"{st.st_uid}:{st.st_gid}", f"{stat.S_IMODE(st.st_mode):o}") == (
            name, owner, mode)
    assert (root / "viafollow").read_text() == "f" and not (root / "viafollow").is_symlink()
