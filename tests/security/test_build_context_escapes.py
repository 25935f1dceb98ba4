"""Attacks on the build context and COPY/ADD (shared/build/context.py), run on the code
itself, with no engine: a client's tar, a Dockerfile's sources and an image's symlinks
try to make the daemon read or write outside the context and the image's root.

Each test keeps a "host" directory beside them, holding a secret, and checks after the
attack that nothing was read from it (the secret never reaches the image) and nothing
was written into it or next to it.
"""

from __future__ import annotations

import io
import os
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.build import context
from shared.build.context import ContextError

SECRET = b"host secret\n"


@pytest.fixture(autouse=True)
def _engine_scope() -> Iterator[None]:
    """These attacks need no engine: this replaces the suite's per-engine fixture."""
    yield


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """Stands for the host: a directory the daemon must never read from or write to."""
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret").write_bytes(SECRET)
    return host


def host_untouched(host: Path) -> bool:
    return sorted(os.listdir(host)) == ["secret"] and (host / "secret").read_bytes() == SECRET


def tar_of(*entries: tarfile.TarInfo, data: bytes = b"pwned") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info in entries:
            if info.isreg():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    return info


def unpack_into(tmp_path: Path, data: bytes) -> Path:
    dest = tmp_path / "context"
    dest.mkdir(exist_ok=True)
    context.unpack(io.BytesIO(data), str(dest))
    return dest


# --- the context tar --------------------------------------------------------------------

@pytest.mark.parametrize("entries", [
    [entry("../host/pwned")],
    [entry("a/../../host/pwned")],
    [entry("evil", tarfile.SYMTYPE, "../host"), entry("evil/pwned")],
    [entry("evil", tarfile.SYMTYPE, "/")],  # absolute: allowed, but never followed...
    [entry("hard", tarfile.LNKTYPE, "../host/secret")],
])
def test_a_context_tar_never_writes_outside(tmp_path: Path, host: Path,
                                            entries: list[tarfile.TarInfo]) -> None:
    data = tar_of(*entries)
    try:
        unpack_into(tmp_path, data)
    except (ContextError, OSError):
        pass
    assert host_untouched(host)
    assert sorted(os.listdir(tmp_path)) in (["context", "host"], ["host"])


def test_names_are_read_as_dockerds_chrooted_unpack_reads_them(tmp_path: Path,
                                                              host: Path) -> None:
    """The reference dockerd 20.10 builds such a context: `../../up/pwned` is found at
    /ctx/up/pwned after `COPY . /ctx/`, the link `evil -> ../../..` is kept as a link,
    and a hard link to /etc/passwd fails ("link /etc/passwd /h: no such file")."""
    dest = unpack_into(tmp_path, tar_of(entry("../../up/pwned"),
                                        entry("evil", tarfile.SYMTYPE, "../../..")))
    assert (dest / "up" / "pwned").read_bytes() == b"pwned"
    assert os.readlink(dest / "evil") == "../../.."
    with pytest.raises(ContextError, match="could not be unpacked"):
        unpack_into(tmp_path, tar_of(entry("h", tarfile.LNKTYPE, "/etc/passwd")))
    assert host_untouched(host)


def test_an_absolute_symlink_in_the_context_is_never_written_through(tmp_path: Path,
                                                                      host: Path) -> None:
    data = tar_of(entry("evil", tarfile.SYMTYPE, str(host)), entry("evil/pwned"))
    with pytest.raises(ContextError, match="is not a directory"):
        unpack_into(tmp_path, data)
    assert host_untouched(host)


def test_absolute_names_land_inside(tmp_path: Path, host: Path) -> None:
    dest = unpack_into(tmp_path, tar_of(entry(f"{host}/pwned")))
    assert (dest / str(host).lstrip("/") / "pwned").read_bytes() == b"pwned"
    assert host_untouched(host)


def test_a_hard_link_to_a_host_file_is_refused(tmp_path: Path, host: Path) -> None:
    with pytest.raises(ContextError):
        unpack_into(tmp_path, tar_of(entry("hard", tarfile.LNKTYPE, str(host / "secret"))))
    assert host_untouched(host)


def test_device_nodes_are_refused(tmp_path: Path) -> None:
    node = entry("disk", tarfile.BLKTYPE)
    node.devmajor, node.devminor = 8, 0
    with pytest.raises(ContextError, match=r"device node \(disk\)"):
        unpack_into(tmp_path, tar_of(node))
    assert not (tmp_path / "context" / "disk").exists()


def test_the_context_size_is_capped(tmp_path: Path) -> None:
    dest = tmp_path / "context"
    dest.mkdir()
    with pytest.raises(ContextError, match="larger than 100 bytes"):
        context.unpack(io.BytesIO(tar_of(entry("big"), data=b"x" * 101)), str(dest),
                       max_bytes=100)
    with pytest.raises(ContextError, match="more than 2 entries"):
        context.unpack(io.BytesIO(tar_of(entry("a"), entry("b"), entry("c"))), str(dest),
                       max_entries=2)


# --- COPY's sources ---------------------------------------------------------------------

def test_copy_dotdot_is_refused(tmp_path: Path, host: Path) -> None:
    ctx = unpack_into(tmp_path, tar_of(entry("f")))
    (tmp_path / "context" / ".." / "sibling").write_bytes(SECRET)
    with pytest.raises(ContextError, match="forbidden path outside the build context"):
        context.resolve_sources(str(ctx), ["../sibling"])
    with pytest.raises(ContextError, match="forbidden path outside the build context"):
        context.resolve_sources(str(ctx), ["../host/secret"])


@pytest.mark.parametrize("link", ["ABSOLUTE", "../../../../../../../../HOST/secret"])
def test_a_symlink_source_is_followed_inside_the_context_only(tmp_path: Path, host: Path,
                                                              link: str) -> None:
    # an image's root given to COPY --from may hold any symlink: no unpack checks there
    stage = tmp_path / "stage"
    stage.mkdir()
    target = link.replace("ABSOLUTE", str(host / "secret")).replace("/HOST", str(host))
    os.symlink(target, stage / "leak")
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    with pytest.raises(ContextError, match="file not found in build context"):
        context.copy_sources(str(stage), ["leak"], str(rootfs), "/leaked")
    assert not (rootfs / "leaked").exists()
    # the same name planted inside the root is what a symlink means there
    inside = stage / str(host / "secret").lstrip("/")
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"the image's own file\n")
    context.copy_sources(str(stage), ["leak"], str(rootfs), "/leaked")
    assert (rootfs / "leaked").read_bytes() == b"the image's own file\n"
    assert host_untouched(host)


def test_a_symlinked_directory_source_stays_inside(tmp_path: Path, host: Path) -> None:
    stage = tmp_path / "stage"
    stage.mkdir()
    os.symlink(str(host), stage / "dir")
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    with pytest.raises(ContextError, match="file not found"):
        context.copy_sources(str(stage), ["dir"], str(rootfs), "/d")
    with pytest.raises(ContextError, match="no source files"):
        context.copy_sources(str(stage), ["dir/*"], str(rootfs), "/d/")
    assert not (rootfs / "d").exists() and host_untouched(host)


# --- COPY's destination ---------------------------------------------------------------

@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    return unpack_into(tmp_path, tar_of(entry("payload"), entry("dir/", tarfile.DIRTYPE),
                                        entry("dir/sub/", tarfile.DIRTYPE),
                                        entry("dir/sub/file")))


@pytest.mark.parametrize("dest", ["/app/", "/app/payload", "/app/new/dir/"])
@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_a_symlink_in_the_image_never_leads_the_copy_out(tmp_path: Path, host: Path,
                                                         ctx: Path, dest: str,
                                                         how: str) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    os.symlink(str(host) if how == "absolute" else "../../../../../../.." + str(host),
               rootfs / "app")
    context.copy_sources(str(ctx), ["payload"], str(rootfs), dest)
    assert host_untouched(host)
    # it landed where the link points *inside* the image's root
    inside = rootfs / str(host).lstrip("/")
    assert any(p.name == "payload" for p in inside.rglob("*"))


def test_a_symlink_at_the_destination_file_is_resolved_inside(tmp_path: Path, host: Path,
                                                              ctx: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    os.symlink(str(host / "secret"), rootfs / "etc" / "target")
    context.copy_sources(str(ctx), ["payload"], str(rootfs), "/etc/target")
    assert host_untouched(host)
    assert (rootfs / str(host / "secret").lstrip("/")).read_bytes() == b"pwned"


def test_symlinks_inside_a_copied_tree_are_replaced_not_followed(tmp_path: Path,
                                                                 host: Path,
                                                                 ctx: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "d").mkdir(parents=True)
    os.symlink(str(host), rootfs / "d" / "sub")  # where COPY dir /d will write sub/file
    context.copy_sources(str(ctx), ["dir"], str(rootfs), "/d")
    assert host_untouched(host)
    assert (rootfs / "d" / "sub").is_dir() and not (rootfs / "d" / "sub").is_symlink()
    assert (rootfs / "d" / "sub" / "file").read_bytes() == b"pwned"


def test_add_archives_cannot_escape(tmp_path: Path, host: Path, ctx: Path) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    for name, data in [("dotdot.tar", tar_of(entry("../../../host/pwned"))),
                       ("through.tar", tar_of(entry("l", tarfile.SYMTYPE, str(host)),
                                              entry("l/pwned"))),
                       ("above.tar", tar_of(entry("l", tarfile.SYMTYPE, "../../../..")))]:
        (ctx / name).write_bytes(data)
        with pytest.raises(ContextError, match="failed to copy files"):
            context.copy_sources(str(ctx), [name], str(rootfs), "/x/", unpack=True)
    assert host_untouched(host)


# --- --chown reads the image's files, as hostile ----------------------------------------

def test_chown_reads_passwd_inside_the_image_only(tmp_path: Path, host: Path) -> None:
    (host / "passwd").write_text("evil:x:4242:4242::/:/bin/sh\n")
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    os.symlink(str(host / "passwd"), rootfs / "etc" / "passwd")
    with pytest.raises(ContextError, match="open /etc/passwd: no such file"):
        context.parse_chown("evil", str(rootfs))


def test_chown_does_not_hang_on_a_fifo(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    os.mkfifo(rootfs / "etc" / "passwd")
    result: list[BaseException] = []

    def lookup() -> None:
        try:
            context.parse_chown("someone", str(rootfs))
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            result.append(err)

    thread = threading.Thread(target=lookup, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "reading a FIFO /etc/passwd blocked the daemon"
    assert isinstance(result[0], ContextError)


def test_a_symlink_loop_is_an_error_not_a_crash(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    os.symlink("b", ctx / "a")
    os.symlink("a", ctx / "b")
    with pytest.raises(ContextError, match="^COPY failed: a: "):
        context.resolve_sources(str(ctx), ["a"])
