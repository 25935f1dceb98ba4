"""Unit tests of docker cp's, diff's and export's pure parts, on temporary directories
(no daemon, no container): path rules, Go's mode and time encodings, resolution inside
a root, the tar writer and the extractor, the overlay change walk."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from shared.daemon import changes, copying, extract, treetar
from shared.daemon.containerfs import ContainerRoot, bind_mounts
from shared.images.unpack import UnsafeLayer
from shared.securejoin import O_PATH, _walk_beneath, follow_in_scope, open_beneath

ROOT = os.geteuid() == 0


@pytest.mark.parametrize(("given", "cleaned"), [
    ("d", "/d"), ("/d/", "/d/"), ("d/.", "/d/."), ("/d/./", "/d/./"), ("/", "/"),
    ("a/../b", "/b"), ("../../x", "/x"), (".", "/."), ("/d/..", "/"),
])
def test_clean_path_keeps_a_trailing_dot_or_slash(given: str, cleaned: str) -> None:
    assert copying.clean_path(given) == cleaned


def test_go_file_mode_and_time() -> None:
    assert copying.go_file_mode(stat.S_IFDIR | 0o755) == (1 << 31) | 0o755
    assert copying.go_file_mode(stat.S_IFLNK | 0o777) == (1 << 27) | 0o777
    assert copying.go_file_mode(stat.S_IFCHR | 0o666) == (1 << 26) | (1 << 21) | 0o666
    assert copying.go_file_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == (1 << 23) | 0o755
    assert copying.go_time(0) == "1970-01-01T00:00:00Z"
    assert copying.go_time(1.5) == "1970-01-01T00:00:01.5Z"


def test_path_stat_header_is_base64_json_with_mobys_names() -> None:
    st = copying.PathStat("f", 3, 0o644, "1970-01-01T00:00:00Z", "")
    assert json.loads(base64.b64decode(st.header())) == {
        "name": "f", "size": 3, "mode": 0o644, "mtime": "1970-01-01T00:00:00Z",
        "linkTarget": ""}


def _tree(root: Path) -> None:
    (root / "d" / "sub").mkdir(parents=True)
    (root / "d" / "f").write_text("one\n")
    (root / "abs").symlink_to("/d")
    (root / "rel").symlink_to("../../../d")
    (root / "escape").symlink_to("/etc")


@pytest.mark.parametrize("walk", ["openat2", "fallback"])
def test_resolution_stays_in_the_root(tmp_path: Path, walk: str) -> None:
    _tree(tmp_path)
    root_fd = os.open(tmp_path, O_PATH | os.O_DIRECTORY)
    opener = open_beneath if walk == "openat2" else _walk_beneath
    try:
        for path in ("/abs/f", "rel/f", "/d/../../../d/f"):
            fd = opener(root_fd, path.lstrip("/"), os.O_RDONLY)
            with os.fdopen(fd) as f:
                assert f.read() == "one\n"
        with pytest.raises(FileNotFoundError):  # /etc/passwd inside the root: none
            opener(root_fd, "escape/passwd", O_PATH)
        held = opener(root_fd, "abs", O_PATH | os.O_NOFOLLOW)  # the link itself
        assert stat.S_ISLNK(os.fstat(held).st_mode)
        os.close(held)
        assert follow_in_scope(root_fd, "/rel") == "/d"
        assert follow_in_scope(root_fd, "/escape/x") == "/etc/x"
    finally:
        os.close(root_fd)


def test_stat_and_archive_rebase_as_moby(tmp_path: Path) -> None:
    _tree(tmp_path)
    fd = os.open(tmp_path, O_PATH | os.O_DIRECTORY)
    root = ContainerRoot(fd, [])
    try:
        def names(path: str) -> list[str]:
            _, write = copying.archive(root, path, "c")
            out = io.BytesIO()
            write(out)
            return tarfile.open(fileobj=io.BytesIO(out.getvalue())).getnames()

        assert names("/d") == ["d", "d/f", "d/sub"]
        assert names("/d/.") == [".", "./f", "./sub"]
        assert names("/d/f") == ["f"]
        assert names("/abs") == ["abs"]
        st = copying.stat_path(root, "/abs", "c")
        assert st.name == "abs" and st.link_target == "/d"
        with pytest.raises(copying.NotFound, match="Could not find the file /x in container c"):
            copying.stat_path(root, "/x", "c")
    finally:
        os.close(fd)


def test_tree_tar_archives_a_symlink_as_itself_and_hard_links_once(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a")
    os.link(tmp_path / "a", tmp_path / "b")
    (tmp_path / "up").symlink_to("/")
    os.mkfifo(tmp_path / "fifo")  # never opened: a header only
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    out = io.BytesIO()
    try:
        with treetar.TreeTar(out) as tar:
            for name in sorted(os.listdir(fd)):
                tar.add(fd, name, name)
    finally:
        os.close(fd)
    members = {m.name: m for m in tarfile.open(fileobj=io.BytesIO(out.getvalue()))}
    assert members["a"].isfile() and members["b"].islnk() and members["b"].linkname == "a"
    assert members["up"].issym() and members["up"].linkname == "/"
    assert members["fifo"].isfifo()


def _tar(*entries: tuple[str, bytes, str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, link in entries:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.uid, info.gid = kind, link, os.getuid(), os.getgid()
            if kind == tarfile.REGTYPE:
                info.size = 2
                tar.addfile(info, io.BytesIO(b"x\n"))
            else:
                tar.addfile(info)
    buffer.seek(0)
    return buffer


def _extract(dest: Path, body: io.BytesIO, **options: object) -> None:
    fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        extract.extract(body, fd, extract.Options(**options))  # type: ignore[arg-type]
    finally:
        os.close(fd)


def test_extract_contains_every_entry(tmp_path: Path) -> None:
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "link").symlink_to(outside)
    for body in (_tar(("../outside/x", tarfile.REGTYPE, "")),
                 _tar(("link/x", tarfile.REGTYPE, "")),
                 _tar(("h", tarfile.LNKTYPE, "../outside/y")),
                 _tar(("s", tarfile.SYMTYPE, "../../x"))):
        with pytest.raises(UnsafeLayer):
            _extract(dest, body)
    assert list(outside.iterdir()) == []
    _extract(dest, _tar((f"{outside}/abs", tarfile.REGTYPE, "")))  # absolute: inside
    assert (dest / str(outside).lstrip("/") / "abs").read_text() == "x\n"
    assert list(outside.iterdir()) == []


def test_extract_overwrite_rules_and_rebase(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    with pytest.raises(extract.OverwriteRefused):
        _extract(tmp_path, _tar(("sub", tarfile.REGTYPE, "")), allow_overwrite_dir_with_file=False)
    assert (tmp_path / "sub").is_dir()
    _extract(tmp_path, _tar(("sub", tarfile.REGTYPE, "")))
    assert (tmp_path / "sub").read_text() == "x\n"
    _extract(tmp_path, _tar(("d", tarfile.DIRTYPE, ""), ("d/f", tarfile.REGTYPE, "")),
             rebase=("d", "renamed"))
    assert (tmp_path / "renamed" / "f").read_text() == "x\n"
    _extract(tmp_path, _tar((".", tarfile.DIRTYPE, ""), ("./g", tarfile.REGTYPE, "")),
             rebase=(".", "dot"))
    assert (tmp_path / "dot" / "g").read_text() == "x\n"


@pytest.mark.skipif(not ROOT, reason="whiteouts are 0/0 character devices: root makes them")
def test_changes_from_an_upper_dir(tmp_path: Path) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    for d in ("bin", "etc", "home/user", "keep"):
        (lower / d).mkdir(parents=True)
    (lower / "bin" / "ls").write_text("ls")
    (lower / "etc" / "passwd").write_text("root")
    (lower / "home" / "user" / "x").write_text("x")
    os.utime(lower / "keep", (100, 100))
    (upper / "bin").mkdir(parents=True)
    os.mknod(upper / "bin" / "ls", stat.S_IFCHR | 0o600, os.makedev(0, 0))  # deleted
    (upper / "etc").mkdir()
    (upper / "etc" / "passwd").write_text("root+")
    (upper / "etc" / "hosts").write_text("")  # a runtime's mount point: not reported
    (upper / "home").mkdir()
    os.setxattr(upper / "home", changes.OPAQUE_XATTR, b"y")  # removed and made again
    (upper / "keep").mkdir()
    os.utime(upper / "keep", (100, 100))  # copied up, unchanged: not reported
    (upper / "new").write_text("n")
    found = [(c["Kind"], c["Path"]) for c in changes.container_changes(str(upper),
                                                                       [str(lower)])]
    assert found == [(0, "/bin"), (2, "/bin/ls"), (0, "/etc"), (0, "/etc/passwd"),
                     (2, "/home"), (1, "/new")]


def test_bind_mounts_of_a_spec() -> None:
    mounts = [{"destination": "/proc", "type": "proc", "source": "proc"},
              {"destination": "/etc/hosts", "type": "bind", "source": "/x/hosts",
               "options": ["rbind", "rprivate"]},
              {"destination": "/data", "type": "none", "source": "/srv",
               "options": ["bind", "ro"]}]
    binds = bind_mounts(mounts)
    assert [(b.destination, b.readonly) for b in binds] == [("/etc/hosts", False),
                                                             ("/data", True)]
