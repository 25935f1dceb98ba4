"""The build context: the tar a client sends with `docker build`, unpacked where only the
daemon can see it, and COPY/ADD's rules for taking files from it (moby's
daemon/builder/remotecontext and daemon/builder/dockerfile/copy.go).

Everything in a context is hostile, and so is the image being built: a context may
hold `../../etc/passwd` entries or a symlink `data -> /root`; an image may hold
`/app -> /etc` hoping the daemon writes the host's /etc. So:

- the tar is unpacked by shared/daemon/extract.py, from a held descriptor, one name at a
  time: a name is read as dockerd's chrooted unpack reads it (`../../a` is `a`, inside),
  nothing is written through a symlink, no device node is accepted, the bytes and
  entries are counted against a cap;
- a source path is resolved as moby's FollowSymlinkInScope does: a symlink is followed
  as if the context's root were `/`, so `data -> /root` means the context's own root,
  never the host's; a path that climbs out with `..` is refused by name
  ("forbidden path outside the build context");
- the destination is resolved inside the image's root the same way (openat2
  RESOLVE_IN_ROOT, shared/securejoin.py): `/app -> /etc` lands in the image's /etc,
  and every file is created relative to a held directory with O_NOFOLLOW|O_EXCL, so a
  symlink in the way is replaced, never written through.

COPY's rules, as the classic builder has them:
- `COPY dir /dst` copies the directory's contents, not the directory itself;
- a file goes into `/dst/` (or onto an existing directory) under its own name, else it
  becomes `/dst`; several sources need a destination ending in `/`;
- wildcards are Go's filepath.Match, against every path in the context;
- files are owned by root (0:0), or by `--chown=user:group` (numbers, or names looked up
  in the image's /etc/passwd and /etc/group, read as hostile files), or keep their
  owners for `COPY --from` without --chown; modes and mtimes are kept;
- ADD unpacks a local tar (plain, gzip, bzip2, xz) into the destination; a URL is
  refused (this daemon does not download);
- the cache key of a COPY is a digest of the sources: each file's content and metadata
  (its tar header minus the mtime, as tarsum v1 hashes it), a directory's the sorted
  digests of everything under it.
"""

from __future__ import annotations

import errno
import hashlib
import lzma
import os
import posixpath
import re
import shutil
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from shared.build.dockerignore import BadPattern, daemon_removals, read_patterns
from shared.daemon.extract import Options, extract
from shared.images.unpack import UnsafeLayer
from shared.patterns import glob_match
from shared.securejoin import (
    O_PATH,
    FileTooLarge,
    follow_in_scope,
    open_beneath,
    read_regular_file,
)

# Caps on what a client may make the daemon write. Docker has none; a daemon that
# unpacks whatever arrives fills its disk for anyone who can reach the socket.
MAX_CONTEXT_BYTES = 32 << 30
MAX_CONTEXT_ENTRIES = 1_000_000
MAX_DOCKERFILE = 16 << 20
MAX_IGNORE_FILE = 16 << 20
MAX_USER_FILE = 10 << 20  # moby/sys/user's cap on /etc/passwd and /etc/group

DIR_FLAGS = O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
CAPABILITY_XATTR = "security.capability"


class ContextError(ValueError):
    """A context or a COPY/ADD dockerd would refuse; str() is its message."""


# --- the context itself ----------------------------------------------------------------

def unpack(stream: BinaryIO, dest: str, max_bytes: int = MAX_CONTEXT_BYTES,
           max_entries: int = MAX_CONTEXT_ENTRIES) -> None:
    """Unpack the context tar (plain or compressed) into the empty directory `dest`.
    tarfile.ReadError if the stream is no tar (an empty one included)."""
    counted = {"bytes": 0, "entries": 0}

    def check(member: tarfile.TarInfo) -> None:
        # dockerd 20.10 unpacks the context in a chroot at its root, where `../a` is
        # `/a`: the name is read so, and lands inside (a hard link's target too)
        member.name = _in_root(member.name)
        if member.islnk():
            member.linkname = _in_root(member.linkname)
        if member.ischr() or member.isblk():
            raise ContextError(f"the build context holds a device node ({member.name}): "
                               "refused")
        counted["entries"] += 1
        counted["bytes"] += member.size if member.isreg() else 0
        if counted["entries"] > max_entries:
            raise ContextError(f"the build context holds more than {max_entries} entries")
        if counted["bytes"] > max_bytes:
            raise ContextError(f"the build context is larger than {max_bytes} bytes")

    dest_fd = os.open(dest, DIR_FLAGS)
    try:
        extract(stream, dest_fd, Options(lchown=True, symlinks_above_root=True), check)
    except UnsafeLayer as err:
        raise ContextError(f"the build context is unsafe: {err}") from None
    except OSError as err:  # a hard link to nothing in the context, a full disk...
        raise ContextError(f"the build context could not be unpacked: {err}") from None
    finally:
        os.close(dest_fd)


def _in_root(name: str) -> str:
    """A tar name as a chroot at the destination reads it: `../../a/b` is `a/b`."""
    return posixpath.normpath("/" + name).lstrip("/") or "."


def read_dockerfile(context: str, name: str = "Dockerfile") -> tuple[str, str]:
    """(the name found, its text): the Dockerfile inside the context, a symlink followed
    only inside it; `Dockerfile` falls back to `dockerfile` (remotecontext/detect.go)."""
    try:
        data = read_regular_file(context, name, MAX_DOCKERFILE)
    except FileTooLarge:
        raise ContextError(f"the Dockerfile ({name}) is larger than {MAX_DOCKERFILE} "
                           "bytes") from None
    except OSError:
        if name == "Dockerfile":
            try:
                return read_dockerfile(context, "dockerfile")
            except ContextError:
                pass
        raise ContextError(f"Cannot locate specified Dockerfile: {name}") from None
    if not data:
        raise ContextError(f"the Dockerfile ({name}) cannot be empty")
    return name, data.decode("utf-8", errors="replace")


def read_dockerignore(context: str) -> list[str]:
    """The context's .dockerignore patterns ([] without one)."""
    try:
        data = read_regular_file(context, ".dockerignore", MAX_IGNORE_FILE)
    except FileTooLarge:
        raise ContextError("error reading .dockerignore: file too large") from None
    except OSError:
        return []
    return read_patterns(data.decode("utf-8", errors="replace"))


def remove_build_files(context: str, dockerfile: str = "Dockerfile") -> None:
    """Delete .dockerignore and the Dockerfile from the context when its .dockerignore
    names them, so that `COPY . /` does not take them (removeDockerfile). The client
    sent them only because the daemon must read them."""
    try:
        removals = daemon_removals(read_dockerignore(context), dockerfile)
    except BadPattern:
        return  # moby ignores the matcher's error here
    root_fd = os.open(context, DIR_FLAGS)
    try:
        for name in removals:
            _remove_in_scope(root_fd, name)
    finally:
        os.close(root_fd)


def _remove_in_scope(root_fd: int, path: str) -> None:
    resolved = follow_in_scope(root_fd, path)
    if resolved == "/":
        return
    try:
        parent = open_beneath(root_fd, posixpath.dirname(resolved), DIR_FLAGS)
    except OSError:
        return
    try:
        _remove(parent, posixpath.basename(resolved))
    finally:
        os.close(parent)


# --- COPY/ADD sources ------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """A resolved source: `name` as the instruction matched it (its last component names
    a file copied into a directory), `path` where it is once symlinks are followed
    inside the root, `digest` its cache digest."""

    name: str
    path: str
    is_dir: bool
    digest: str


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))  # urlutil.IsURL


def contains_wildcards(name: str) -> bool:
    """copy_unix.go containsWildcards: `*`, `?` or `[`, unless escaped."""
    i = 0
    while i < len(name):
        if name[i] == "\\":
            i += 2
            continue
        if name[i] in "*?[":
            return True
        i += 1
    return False


def resolve_sources(root: str, sources: list[str], command: str = "COPY") -> list[Source]:
    """Every source of a COPY/ADD, wildcards expanded, in the context (or, for
    --from, the image's root) at `root`; errors as dockerd words them."""
    root_fd = os.open(root, DIR_FLAGS)
    try:
        found: list[Source] = []
        for source in sources:
            if is_url(source):
                if command == "COPY":
                    raise ContextError("COPY failed: source can't be a URL for COPY")
                raise ContextError(f"ADD failed: {source}: this daemon does not download "
                                   "URLs (it builds offline): fetch the file into the "
                                   "build context and ADD it from there")
            try:
                found += _source(root_fd, source, command, wildcards=True)
            except OSError as err:  # a symlink loop, a file that will not open...
                raise ContextError(f"{command} failed: {source}: {err.strerror}") from None
        if not found:
            raise ContextError(f"{command} failed: no source files were specified")
        return found
    finally:
        os.close(root_fd)


def _source(root_fd: int, original: str, command: str, wildcards: bool) -> list[Source]:
    path = original.removeprefix("/").removeprefix("./")
    if wildcards and contains_wildcards(path):
        return [found for rel in _walk_paths(root_fd) if _glob(path, rel)
                for found in _source(root_fd, rel, command, wildcards=False)]
    cleaned = posixpath.normpath(path) if path else "."
    if cleaned == ".." or cleaned.startswith("../"):
        # dockerd 20.10's words (FullPath): the "()" held a host path it never filled in
        raise ContextError(f"{command} failed: forbidden path outside the build context: "
                           f"{path} ()")
    resolved = follow_in_scope(root_fd, path)
    try:
        fd = open_beneath(root_fd, resolved, O_PATH | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        raise ContextError(f"{command} failed: file not found in build context or excluded "
                           f"by .dockerignore: stat {path}: file does not exist") from None
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    rel = resolved.lstrip("/")
    if stat.S_ISDIR(st.st_mode):
        digests = sorted(digest for _, digest in _tree_digests(root_fd, rel))
        return [Source(path, rel, True, "dir:" + _sha256(",".join(digests)))]
    return [Source(path, rel, False, "file:" + _entry_digest(root_fd, rel))]


def _glob(pattern: str, name: str) -> bool:
    try:
        return glob_match(pattern, name)
    except BadPattern:
        return False  # copyWithWildcards ignores filepath.Match's error


def _walk_paths(root_fd: int, rel: str = "") -> Iterator[str]:
    """Every path under the root, lexically, a directory before its contents, symlinks
    not followed (filepath.WalkDir)."""
    fd = open_beneath(root_fd, rel or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in os.scandir(fd))
    finally:
        os.close(fd)
    for name, is_dir in entries:
        path = f"{rel}/{name}" if rel else name
        yield path
        if is_dir:
            yield from _walk_paths(root_fd, path)


def _tree_digests(root_fd: int, rel: str) -> Iterator[tuple[str, str]]:
    """(path, digest) of a directory and everything under it (walkSource); the
    context's root itself is left out, as moby leaves out ".". """
    if rel:
        yield rel, _entry_digest(root_fd, rel)
    for path in _walk_paths(root_fd, rel):
        yield path, _entry_digest(root_fd, path)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _entry_digest(root_fd: int, rel: str) -> str:
    """One entry's digest: the tar header fields tarsum v1 hashes (name, mode, owner,
    size, type, link target; not the mtime), then the content of a regular file."""
    parent = open_beneath(root_fd, posixpath.dirname(rel) or ".", DIR_FLAGS)
    try:
        name = posixpath.basename(rel)
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        link = os.readlink(name, dir_fd=parent) if stat.S_ISLNK(st.st_mode) else ""
        header = (f"name{rel}mode{stat.S_IMODE(st.st_mode):o}uid{st.st_uid}gid{st.st_gid}"
                  f"size{st.st_size if stat.S_ISREG(st.st_mode) else 0}"
                  f"type{stat.S_IFMT(st.st_mode):o}linkname{link}")
        digest = hashlib.sha256(header.encode("utf-8", "surrogateescape"))
        if stat.S_ISREG(st.st_mode):
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                         dir_fd=parent)
            with os.fdopen(fd, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()
    finally:
        os.close(parent)


def combined_digest(sources: list[Source]) -> str:
    """The sources' one digest (getSourceHashFromInfos): a single source's own, else
    "multi:" and the hash of them all."""
    if len(sources) == 1:
        return sources[0].digest
    return "multi:" + _sha256(",".join(s.digest for s in sources))


def sources_digest(root: str, sources: list[str], command: str = "COPY") -> str:
    """The cache digest of COPY/ADD's sources (see combined_digest)."""
    return combined_digest(resolve_sources(root, sources, command))


# --- the destination -------------------------------------------------------------------

def normalize_dest(workdir: str, dest: str) -> str:
    """A relative destination is under WORKDIR; a trailing `/` is kept (normalizeDest)."""
    if dest.startswith("/"):
        return dest
    joined = posixpath.normpath(posixpath.join("/", workdir or "/", dest))
    return joined + "/" if dest.endswith("/") and joined != "/" else joined


_NUMBER = re.compile(r"[+-]?[0-9]+")


def parse_chown(spec: str, rootfs: str) -> tuple[int, int]:
    """`--chown=user[:group]` as ids: numbers as they are, names from the image's
    /etc/passwd and /etc/group (parseChownFlag). A lone user is also the group's name."""
    prefix = "unable to convert uid/gid chown string to host mapping: "
    parts = spec.split(":")
    if len(parts) > 2:
        raise ContextError(prefix + "invalid chown string format: " + spec)
    user, group = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    uid = _lookup(rootfs, "/etc/passwd", user, "user", "uid", prefix)
    gid = _lookup(rootfs, "/etc/group", group, "group", "gid", prefix)
    return uid, gid


def _lookup(rootfs: str, path: str, name: str, kind: str, idname: str, prefix: str) -> int:
    if _NUMBER.fullmatch(name):
        return int(name)
    what = f"can't find {idname} for {kind} {name}: "
    try:
        data = read_regular_file(rootfs, path, MAX_USER_FILE)
    except FileNotFoundError:
        raise ContextError(f"{prefix}{what}open {path}: no such file or directory") from None
    except OSError as err:
        raise ContextError(f"{prefix}{what}read {path}: {err.strerror}") from None
    for line in data.decode("utf-8", errors="replace").splitlines():
        fields = line.split(":")
        if len(fields) > 2 and fields[0] == name and _NUMBER.fullmatch(fields[2]):
            return int(fields[2])
    raise ContextError(f"{prefix}{what}no such {kind}: {name}")


# --- copying ---------------------------------------------------------------------------

def copy_sources(root: str, sources: list[str], rootfs: str, dest: str, *, chown: str = "",
                 preserve_owner: bool = False, unpack: bool = False) -> None:
    """COPY (or ADD, `unpack`) `sources` from `root` (the context, or --from's image
    root) to the absolute `dest` inside `rootfs` (see normalize_dest). Owned by root,
    or by `chown`, or as in the source with `preserve_owner` (COPY --from)."""
    command = "ADD" if unpack else "COPY"
    found = resolve_sources(root, sources, command)
    if len(found) > 1 and not dest.endswith("/"):
        raise ContextError(f"When using {command} with more than one source file, the "
                           "destination must be a directory and end with a /")
    owner: tuple[int, int] | None = None if preserve_owner else (0, 0)
    if chown:
        owner = parse_chown(chown, rootfs)
    src_fd = os.open(root, DIR_FLAGS)
    dst_fd = os.open(rootfs, DIR_FLAGS)
    try:
        for source in found:
            try:
                _copy_one(src_fd, source, dst_fd, dest, owner, unpack)
            except (OSError, UnsafeLayer, tarfile.TarError) as err:
                raise ContextError(f"failed to copy files: {err}") from None
    finally:
        os.close(src_fd)
        os.close(dst_fd)


def _copy_one(src_fd: int, source: Source, dst_fd: int, dest: str,
              owner: tuple[int, int] | None, unpack: bool) -> None:
    """performCopyForInfo: a directory's contents, an archive unpacked, or one file."""
    target = follow_in_scope(dst_fd, dest)  # the image's symlinks, followed inside it
    if source.is_dir:
        existed = _is_dir(dst_fd, target)
        os.close(_make_dirs(dst_fd, target, None))
        _copy_tree(src_fd, source.path, dst_fd, target, owner, chown_top=not existed)
        return
    if unpack and _is_archive(src_fd, source.path):
        directory = _make_dirs(dst_fd, target, None)
        try:
            with _open_file(src_fd, source.path) as archive:
                extract(archive, directory, Options(lchown=True))
        finally:
            os.close(directory)
        return
    if _is_dir(dst_fd, target) or dest.endswith("/"):
        target = posixpath.join(target, posixpath.basename(source.name))
    parent = _make_dirs(dst_fd, posixpath.dirname(target), owner)
    try:
        src_parent = open_beneath(src_fd, posixpath.dirname(source.path) or ".", DIR_FLAGS)
        try:
            _place(src_parent, posixpath.basename(source.path), parent,
                   posixpath.basename(target), owner)
        finally:
            os.close(src_parent)
    finally:
        os.close(parent)


def _copy_tree(src_fd: int, src_rel: str, dst_fd: int, target: str,
               owner: tuple[int, int] | None, chown_top: bool) -> None:
    """The contents of src_rel into the directory `target` (CopyWithTar, then
    fixPermissions: the target itself is chowned only if this copy made it)."""
    if chown_top and owner is not None:
        top = open_beneath(dst_fd, target, DIR_FLAGS)
        try:
            os.chown(f"/proc/self/fd/{top}", *owner)
        finally:
            os.close(top)
    links: dict[tuple[int, int], str] = {}
    directories: list[tuple[str, os.stat_result]] = []
    base = src_rel.strip("/")
    for rel in _walk_paths(src_fd, base):
        inner = rel[len(base):].lstrip("/") if base else rel
        dest_path = posixpath.join(target, inner)
        src_parent = open_beneath(src_fd, posixpath.dirname(rel) or ".", DIR_FLAGS)
        dst_parent = open_beneath(dst_fd, posixpath.dirname(dest_path), DIR_FLAGS)
        try:
            name, dst_name = posixpath.basename(rel), posixpath.basename(dest_path)
            st = os.stat(name, dir_fd=src_parent, follow_symlinks=False)
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode) and key in links:
                # linked several times in the source: linked the same in the copy
                _remove(dst_parent, dst_name)
                first = links[key]
                first_parent = open_beneath(dst_fd, posixpath.dirname(first), DIR_FLAGS)
                try:
                    os.link(posixpath.basename(first), dst_name, src_dir_fd=first_parent,
                            dst_dir_fd=dst_parent, follow_symlinks=False)
                finally:
                    os.close(first_parent)
                continue
            if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                links[key] = dest_path
            placed = _place(src_parent, name, dst_parent, dst_name, owner)
        finally:
            os.close(src_parent)
            os.close(dst_parent)
        if placed is not None and stat.S_ISDIR(placed.st_mode):
            directories.append((dest_path, placed))
    # a directory's mtime moves with every entry made in it: set them last
    for dest_path, st in reversed(directories):
        fd = open_beneath(dst_fd, dest_path, O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.utime(f"/proc/self/fd/{fd}", ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(fd)


def _place(src_dir: int, name: str, dst_dir: int, dst_name: str,
           owner: tuple[int, int] | None) -> os.stat_result | None:
    """Make `dst_name` in the held directory dst_dir a copy of `name` in src_dir: what
    is in the way is removed (never followed), the new entry made with O_EXCL and
    O_NOFOLLOW, then its owner, mode, times and file capabilities set through its own
    descriptor."""
    st = os.stat(name, dir_fd=src_dir, follow_symlinks=False)
    existing = _lstat(dst_dir, dst_name)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        if existing is not None and not stat.S_ISDIR(existing.st_mode):
            _remove(dst_dir, dst_name)
            existing = None
        if existing is None:
            os.mkdir(dst_name, 0o700, dir_fd=dst_dir)
    else:
        if existing is not None:
            _remove(dst_dir, dst_name)
        if stat.S_ISREG(mode):
            _copy_file_data(src_dir, name, dst_dir, dst_name)
        elif stat.S_ISLNK(mode):
            os.symlink(os.readlink(name, dir_fd=src_dir), dst_name, dir_fd=dst_dir)
        elif stat.S_ISFIFO(mode):
            os.mkfifo(dst_name, 0o600, dir_fd=dst_dir)
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            os.mknod(dst_name, 0o600 | stat.S_IFMT(mode), st.st_rdev, dir_fd=dst_dir)
        else:
            return None  # a socket: go-archive leaves it out too
    uid, gid = owner if owner is not None else (st.st_uid, st.st_gid)
    if stat.S_ISLNK(mode):
        os.chown(dst_name, uid, gid, dir_fd=dst_dir, follow_symlinks=False)
        os.utime(dst_name, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=dst_dir,
                 follow_symlinks=False)
        return st
    fd = os.open(dst_name, O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dst_dir)
    try:
        inode = f"/proc/self/fd/{fd}"  # the inode just made, whatever its name is now
        os.chown(inode, uid, gid)
        os.chmod(inode, stat.S_IMODE(mode))  # after chown, which clears setuid/setgid
        _copy_capability(src_dir, name, inode)
        if not stat.S_ISDIR(mode):
            os.utime(inode, ns=(st.st_atime_ns, st.st_mtime_ns))
    finally:
        os.close(fd)
    return st


def _copy_file_data(src_dir: int, name: str, dst_dir: int, dst_name: str) -> None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    source = os.open(name, flags, dir_fd=src_dir)
    try:
        if not stat.S_ISREG(os.fstat(source).st_mode):
            raise OSError(errno.EINVAL, "not a regular file any more", name)
        out = os.open(dst_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                      | os.O_CLOEXEC, 0o600, dir_fd=dst_dir)
        with os.fdopen(source, "rb", closefd=False) as reader, os.fdopen(out, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
    finally:
        os.close(source)


def _copy_capability(src_dir: int, name: str, inode: str) -> None:
    """File capabilities travel with a file (go-archive keeps security.capability)."""
    try:
        fd = os.open(name, O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src_dir)
    except OSError:
        return
    try:
        value = os.getxattr(f"/proc/self/fd/{fd}", CAPABILITY_XATTR)
    except OSError:
        return
    finally:
        os.close(fd)
    try:
        os.setxattr(inode, CAPABILITY_XATTR, value)
    except OSError as err:
        if err.errno not in (errno.ENOTSUP, errno.EPERM):
            raise


def _open_file(root_fd: int, rel: str) -> BinaryIO:
    fd = open_beneath(root_fd, rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                      | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", rel)
    return os.fdopen(fd, "rb")


def _is_archive(root_fd: int, rel: str) -> bool:
    """archive.IsArchivePath: a tar, maybe compressed, whose first header reads."""
    try:
        with _open_file(root_fd, rel) as f:
            head = f.read(6)
            f.seek(0)
            if head.startswith(b"\x28\xb5\x2f\xfd"):
                raise ContextError("ADD failed: zstd-compressed archives are not supported "
                                   f"by this daemon: {rel}")
            # "r|*": plain, gzip, bzip2 or xz, as DecompressStream detects them
            with tarfile.open(fileobj=f, mode="r|*") as tar:
                return tar.next() is not None
    except ContextError:
        raise
    except (OSError, EOFError, tarfile.TarError, lzma.LZMAError, ValueError):
        return False


def _is_dir(root_fd: int, path: str) -> bool:
    try:
        fd = open_beneath(root_fd, path, O_PATH | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return stat.S_ISDIR(os.fstat(fd).st_mode)
    finally:
        os.close(fd)


def _make_dirs(root_fd: int, path: str, owner: tuple[int, int] | None) -> int:
    """A held descriptor of the directory `path` inside the root, made 0755 where
    missing (and then owned by `owner` if given: MkdirAllAndChown's "only new")."""
    fd = os.dup(root_fd)
    walked = "/"
    for part in [p for p in path.split("/") if p]:
        walked = posixpath.join(walked, part)
        try:
            nxt = open_beneath(root_fd, walked, DIR_FLAGS)
        except FileNotFoundError:
            os.mkdir(part, 0o755, dir_fd=fd)
            nxt = open_beneath(root_fd, walked, DIR_FLAGS)
            inode = f"/proc/self/fd/{nxt}"
            os.chmod(inode, 0o755)  # whatever the daemon's umask
            if owner is not None:
                os.chown(inode, *owner)
        os.close(fd)
        fd = nxt
    return fd


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _remove(parent: int, name: str) -> None:
    st = _lstat(parent, name)
    if st is None:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=parent)  # walks by descriptors: links unlinked, not followed
    else:
        os.unlink(name, dir_fd=parent)
