"""A container's root filesystem: the image's layers, read-only, under a private writable
layer, merged by overlayfs.

    <container_dir>/upper   everything the container writes (and its whiteouts)
    <container_dir>/work    overlayfs's scratch space; must be on upper's filesystem

The layers are shared by every container of the image and never change; `docker diff`
is simply a walk of `upper`. containerd calls this a snapshot and hands it over as a
list of mounts, which is what `prepare` returns, for whichever era mounts it.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass

from shared.images.store import Image, ImageStore
from shared.libc import check, libc

# mount(2) flags for the options that are flags rather than filesystem data.
MOUNT_FLAGS = {
    "ro": 0x1,  # MS_RDONLY
    "nosuid": 0x2,  # MS_NOSUID
    "nodev": 0x4,  # MS_NODEV
    "noexec": 0x8,  # MS_NOEXEC
    "bind": 0x1000,  # MS_BIND
    "rbind": 0x1000 | 0x4000,  # MS_BIND | MS_REC
}


@dataclass(frozen=True)
class Mount:
    """A mount as containerd's snapshotters describe one: enough to call mount(2) with."""

    type: str
    source: str
    options: tuple[str, ...] = ()


def prepare(store: ImageStore, container_dir: str, image: Image) -> list[Mount]:
    """Make the container's writable layer (its upper and work dirs), once, at create;
    return the mounts of its rootfs, as containerd's Snapshots.Prepare does."""
    os.makedirs(os.path.join(container_dir, "upper"), mode=0o755, exist_ok=True)
    os.makedirs(os.path.join(container_dir, "work"), mode=0o700, exist_ok=True)
    if not image.layers:  # an image without layers: overlayfs needs at least one lowerdir
        os.makedirs(os.path.join(container_dir, "empty"), mode=0o755, exist_ok=True)
    return mounts(store, container_dir, image)


def mounts(store: ImageStore, container_dir: str, image: Image) -> list[Mount]:
    """The overlay mount of a prepared container's rootfs (containerd's Snapshots.Mounts):
    the image's layers read-only, the container's upper dir on top."""
    # overlayfs lists the top layer first
    lowers: list[str] = list(reversed(store.layer_dirs(image)))
    if not lowers:
        lowers = [os.path.join(container_dir, "empty")]
    upper = os.path.join(container_dir, "upper")
    work = os.path.join(container_dir, "work")
    for path in (*lowers, upper, work):
        # The options are one comma-separated string with ":" between lowerdirs.
        if "," in path or ":" in path:
            raise ValueError(f"overlay: path {path!r} contains ',' or ':'")
    options = (f"lowerdir={':'.join(lowers)}", f"upperdir={upper}", f"workdir={work}")
    return [Mount(type="overlay", source="overlay", options=options)]


def mount_all(mounts: list[Mount], target: str) -> None:
    """Mount each mount on target, in order (later ones on top)."""
    for m in mounts:
        flags = 0
        data = []
        for option in m.options:
            if option in MOUNT_FLAGS:
                flags |= MOUNT_FLAGS[option]
            else:
                data.append(option)
        check(
            libc.mount(
                m.source.encode(), target.encode(), m.type.encode(), flags, ",".join(data).encode()
            ),
            f"mount {m.type} on {target}",
        )


def unmount(target: str, lazy: bool = False) -> None:
    """Unmount target; lazy detaches it even while busy (MNT_DETACH)."""
    check(libc.umount2(target.encode(), 2 if lazy else 0), f"umount {target}")


def remove(container_dir: str) -> None:
    """Delete the container's writable layer (it must be unmounted)."""
    for name in ("upper", "work", "empty"):
        path = os.path.join(container_dir, name)
        if os.path.lexists(path):
            shutil.rmtree(path)


def written_size(container_dir: str) -> int:
    """What the container wrote: the size of its upper dir, as moby's directory.Size
    counts it (`docker ps -s`'s SizeRw): the bytes of every file but directories,
    a file with several hard links once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, dirs, files in os.walk(os.path.join(container_dir, "upper")):
        for name in (*dirs, *files):
            try:
                st = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue  # removed meanwhile
            if stat.S_ISDIR(st.st_mode) or st.st_size == 0 or (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total

