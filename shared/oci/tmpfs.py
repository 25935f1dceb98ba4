"""Memory-backed filesystems in a container: /dev/shm (`--shm-size`, `--ipc`) and
`--tmpfs PATH[:OPTIONS]`.

A tmpfs lives in the page cache and swap, charged to the container's memory cgroup;
it goes when its last mount goes. /dev/shm is where POSIX shared memory
(shm_open(3)) and semaphores live, so whoever shares a /dev/shm shares them: with
`--ipc host` the host's, with `--ipc container:X` X's (which X made `shareable`: a
tmpfs the daemon mounted on the host, bound into both; shm.py). The rules are
dockerd's (daemon/oci_linux.go WithMounts, moby/sys/mount MergeTmpfsOptions).
"""

from __future__ import annotations

import json
import posixpath

# Every --tmpfs starts from these (dockerd's): nothing on it may be run, be setuid
# or be a device node, unless the user's own options say otherwise.
TMPFS_DEFAULTS = ["noexec", "nosuid", "nodev", "rprivate"]

# Options that are mount flags (a later one of a pair wins) and the tmpfs data keys
# dockerd lets through; anything else is refused rather than handed to the kernel.
FLAG_GROUPS = [("ro", "rw"), ("suid", "nosuid"), ("dev", "nodev"), ("exec", "noexec"),
               ("sync", "async"), ("dirsync",), ("remount",), ("mand", "nomand"),
               ("atime", "noatime"), ("diratime", "nodiratime"),
               ("relatime", "norelatime"), ("strictatime", "nostrictatime"),
               ("bind", "rbind", "unbindable", "runbindable", "private", "rprivate",
                "shared", "rshared", "slave", "rslave")]
DATA_KEYS = ("size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol")


class TmpfsError(ValueError):
    """A --tmpfs dockerd refuses (HTTP 400); the text is dockerd's."""


def check_destination(dest: str) -> None:
    """dockerd's ValidateTmpfsMountDestination (at create)."""
    if posixpath.normpath(dest.replace("\\", "/")) in ("/", "//"):
        raise TmpfsError("invalid specification: destination can't be '/'")
    if not dest.replace("\\", "/").startswith("/"):
        raise TmpfsError(f"invalid mount path: '{dest}' mount path must be absolute")


def merge_options(options: list[str]) -> list[str]:
    """MergeTmpfsOptions: the last of each flag group and of each data key wins, in
    the order given; "defaults" means nothing; an unknown option is an error, worded
    as Go prints the split option (`invalid tmpfs option ["foo"]`)."""
    group_of = {flag: i for i, group in enumerate(FLAG_GROUPS) for flag in group}
    seen: set[object] = set()
    kept: list[str] = []
    for option in reversed(options):
        if option == "defaults":
            continue
        if option in group_of:
            key: object = group_of[option]
        else:
            parts = option.split("=", 1)
            if len(parts) != 2 or parts[0] not in ("", *DATA_KEYS):
                shown = " ".join(json.dumps(p) for p in parts)
                raise TmpfsError(f"invalid tmpfs option [{shown}]")
            key = parts[0]
        if key not in seen:
            seen.add(key)
            kept.insert(0, option)
    return kept


def tmpfs_mounts(tmpfs: dict[str, str]) -> list[dict]:
    """HostConfig.Tmpfs (destination -> "size=64m,mode=1777"...) as spec mounts."""
    mounts = []
    for dest, data in sorted(tmpfs.items()):
        check_destination(dest)
        options = merge_options([*TMPFS_DEFAULTS, *(data.split(",") if data else [])])
        mounts.append({"destination": dest, "type": "tmpfs", "source": "tmpfs",
                       "options": options})
    return mounts


def check(host_config: dict) -> None:
    """What dockerd refuses of these options at create."""
    if int(host_config.get("ShmSize") or 0) < 0:
        raise TmpfsError("SHM size can not be less than 0")
    tmpfs_mounts(host_config.get("Tmpfs") or {})


def apply(spec: dict, host_config: dict, shm_source: str | None) -> None:
    """/dev/shm as the IPC mode and --shm-size say, then the --tmpfs mounts.

    `shm_source`: a host directory to bind as /dev/shm (the host's own for `--ipc
    host`, the shareable tmpfs of this container or of the one it joins); None for a
    tmpfs of the container's own."""
    user = tmpfs_mounts(host_config.get("Tmpfs") or {})
    taken = {m["destination"] for m in user}
    ipc = host_config.get("IpcMode") or ""
    size = int(host_config.get("ShmSize") or 0) or 64 * 1024 * 1024
    kept = []
    for m in spec["mounts"]:
        if m["destination"] in taken:
            continue  # a user's tmpfs replaces the default mount there
        if m["destination"] == "/dev/shm":
            if ipc == "none":
                continue
            if shm_source is not None:
                m = {"destination": "/dev/shm", "type": "bind", "source": shm_source,
                     "options": ["rbind", "rprivate"]}
            else:
                options = [o for o in m["options"] if not o.startswith("size=")]
                m = {**m, "options": [*options, f"size={size}"]}
        kept.append(m)
    spec["mounts"] = kept + user
