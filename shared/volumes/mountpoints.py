"""A container's mount points: decided at create, mounted at each start.

At create (moby's registerMountPoints, then createContainerVolumesOS) the request's
`--volumes-from`, `-v`, `--mount` and VOLUMEs (the image's and `-v /path`) become one
list in the container's record, each destination at most once; named volumes are
created if missing, anonymous ones are made. At start (setupMounts, WithMounts) each
becomes a bind mount in the runtime spec: every era then mounts it its own way,
resolving the destination inside the container's root.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable

from shared.errors import InvalidParameter
from shared.oci import tmpfs
from shared.securejoin import secure_join
from shared.volumes import parser
from shared.volumes.parser import MountError
from shared.volumes.store import VolumeStore, unescape


def register(config: dict, host_config: dict, volumes: VolumeStore,
             mounts_of: Callable[[str], list[dict]]) -> list[dict]:
    """The container's mount points (400 for what dockerd refuses; volumes made on the
    way are removed again if the request fails). `mounts_of(ref)`: another
    container's mount points, for --volumes-from (404 if there is no such one)."""
    made: list[str] = []
    try:
        return _register(config, host_config, volumes, mounts_of, made)
    except BaseException:
        for name in made:
            with contextlib.suppress(Exception):
                volumes.remove(name, force=True)
        raise


def _register(config: dict, host_config: dict, volumes: VolumeStore,
              mounts_of: Callable[[str], list[dict]], made: list[str]) -> list[dict]:
    points: dict[str, dict] = {}
    try:
        for spec in host_config.get("VolumesFrom") or []:
            ref, mode = parser.parse_volumes_from(spec)
            for m in mounts_of(ref):
                points[m["Destination"]] = {**m, "RW": m["RW"] and parser.read_write(mode),
                                            "CopyData": False, "FromImage": False}
        binds: set[str] = set()
        tmpfs_dests = {os.path.normpath(d) for d in host_config.get("Tmpfs") or {}}
        driver = host_config.get("VolumeDriver") or ""
        parsed = [parser.parse_bind(raw, driver) for raw in host_config.get("Binds") or []]
        for m in parsed:
            if m["Destination"] in binds or m["Destination"] in tmpfs_dests:
                raise MountError(f"Duplicate mount point: {m['Destination']}")
            binds.add(m["Destination"])
            points[m["Destination"]] = m
        for raw in host_config.get("Mounts") or []:
            m = parser.parse_mount(raw)
            if m["Destination"] in binds:
                raise MountError(f"Duplicate mount point: {raw.get('Target')}")
            points[m["Destination"]] = m
    except MountError as e:
        raise InvalidParameter(str(e)) from None
    for m in points.values():
        if m["Type"] == "volume" and not m["Source"]:
            _attach_volume(m, volumes, made)
    for dest in sorted(config.get("Volumes") or {}):
        dest = os.path.normpath(dest)
        if dest in points:
            continue  # a bind or a volume of the user's is there already
        try:
            parser.check_target("volume", dest)
        except MountError as e:
            raise InvalidParameter(str(e)) from None
        m = parser.mount_point("volume", dest, driver=driver or "local", copy_data=True)
        _attach_volume(m, volumes, made)
        points[dest] = m
    return sorted(points.values(), key=lambda m: m["Destination"])


def _attach_volume(m: dict, volumes: VolumeStore, made: list[str]) -> None:
    v, new = volumes.create(m["Name"], m["Driver"], m.get("Labels"), m.get("DriverOptions"),
                            anonymous=not m["Name"])
    if new:
        made.append(v.name)
    m.update(Name=v.name, Driver=v.driver, Source=volumes.data_path(v.name),
             Anonymous=v.anonymous)


def anonymous_volumes(points: list[dict]) -> list[str]:
    """What `docker rm -v` removes: the container's own anonymous volumes (never a named
    one, never a bind's source, never one it had from --volumes-from)."""
    return [m["Name"] for m in points if m["Type"] == "volume" and m.get("Anonymous")]


def view(m: dict) -> dict:
    """types.MountPoint, as `docker inspect` shows it (Name, Driver: volumes only)."""
    shown: dict = {"Type": m["Type"]}
    if m["Type"] == "volume":
        shown["Name"] = m["Name"]
    shown["Source"] = m["Source"] if m["Type"] != "tmpfs" else ""
    shown["Destination"] = m["Destination"]
    if m["Type"] == "volume":
        shown["Driver"] = m["Driver"]
    shown.update(Mode=m["Mode"], RW=m["RW"], Propagation=m["Propagation"])
    return shown


# ---------------------------------------------------------------------- start


def spec_mounts(points: list[dict], rootfs: str, volumes: VolumeStore,
                undo: contextlib.ExitStack,
                shared_with_running: Callable[[str], bool] = lambda name: False,
                ) -> tuple[list[dict], str | None]:
    """The spec's mounts for the mount points, and the rootfs propagation they need
    (None: the default). Mounts a driver-opts volume (its unmount pushed on `undo`)
    and fills a new volume from the image (copy-up) on the way.

    `shared_with_running(name)`: whether a running container has the volume mounted.
    Then no copy-up: a process in there could plant a symlink in the volume while the
    daemon, as root on the host, writes through it."""
    mounts: list[dict] = []
    root_propagation: str | None = None
    for m in points:
        if m["Type"] == "tmpfs":
            options = tmpfs.merge_options(
                [*tmpfs.TMPFS_DEFAULTS, *(m["TmpfsOptions"].split(",")
                                          if m["TmpfsOptions"] else [])])
            mounts.append({"destination": m["Destination"], "type": "tmpfs",
                           "source": "tmpfs", "options": options})
            continue
        if m["Type"] == "volume":
            source = volumes.mount(m["Name"])
            undo.callback(volumes.unmount, m["Name"])
            if m.get("CopyData"):
                if not shared_with_running(m["Name"]):
                    copy_up(rootfs, m["Destination"], source)
                m["CopyData"] = False  # once, as dockerd does at create
        else:
            source = m["Source"]
            if not os.path.exists(source):
                if not m.get("CreateSource"):
                    raise InvalidParameter(f"invalid mount config for type \"bind\": bind "
                                           f"source path does not exist: {source}")
                os.makedirs(source, mode=0o755, exist_ok=True)
        # rbind: the mounts under the source come along (a host /mnt with disks on it)
        options = ["bind" if m.get("NonRecursive") else "rbind"]
        if not m["RW"]:
            options.append("ro")
        propagation = m["Propagation"]
        if propagation:
            options.append(propagation)
        if propagation in ("shared", "rshared"):
            check_peer_group(source, ("shared:",), "shared")
            root_propagation = "rshared"
        elif propagation in ("slave", "rslave"):
            check_peer_group(source, ("shared:", "master:"), "shared or slave")
            if root_propagation is None:
                root_propagation = "rslave"
        mounts.append({"destination": m["Destination"], "type": "bind", "source": source,
                       "options": options})
    # Parents before children: a mount on /data/sub must not be hidden by /data's.
    mounts.sort(key=lambda mnt: len(mnt["destination"].rstrip("/").split("/")))
    return mounts, root_propagation


def check_peer_group(source: str, tags: tuple[str, ...], what: str) -> None:
    """dockerd's ensureShared/ensureSharedOrSlave: a shared (or slave) bind makes sense
    only from a mount that is itself in a peer group (else nothing propagates)."""
    real = os.path.realpath(source)
    best, tagged = "", False
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = unescape(fields[4])
            if (real == point or real.startswith(point.rstrip("/") + "/")) \
                    and len(point) >= len(best):
                optional = fields[6:fields.index("-")]
                best, tagged = point, any(o.startswith(tags) for o in optional)
    if not tagged:
        raise InvalidParameter(f"path {source} is mounted on {best} but it is not a "
                               f"{what} mount")


def copy_up(rootfs: str, destination: str, volume: str) -> None:
    """A new, empty volume takes what the image has at its destination, with owners and
    modes (Docker's CopyImagePathContent); a volume with anything in it is left alone."""
    if os.listdir(volume):
        return
    source = secure_join(rootfs, destination)  # the image's symlinks stay inside it
    if not os.path.isdir(source) or os.path.islink(source):
        return
    # cp -a: owners, modes, times, symlinks as symlinks, device nodes as nodes.
    subprocess.run(["cp", "-a", "--", source + "/.", volume + "/"], check=True,
                   capture_output=True)
    st = os.stat(source)
    os.chown(volume, st.st_uid, st.st_gid)
    os.chmod(volume, st.st_mode & 0o7777)


def merge_mounts(defaults: list[dict], user: list[dict]) -> list[dict]:
    """The spec's own mounts with the user's after them: a user's mount replaces the
    default one at its destination (a bind on /etc/hosts replaces the daemon's), and a
    user's /dev takes every default one under /dev with it (moby's WithMounts)."""
    taken = {m["destination"] for m in user}
    over_dev = "/dev" in taken
    kept = [m for m in defaults if m["destination"] not in taken
            and not (over_dev and m["destination"].startswith("/dev/"))]

    def under_user_mount(m: dict) -> bool:
        return any(m["destination"].startswith(d.rstrip("/") + "/") for d in taken)

    # The daemon's own files under a user's mount (/etc/hosts under a volume on /etc)
    # go after it, or the volume would hide them (dockerd appends its network mounts).
    return ([m for m in kept if not under_user_mount(m)] + user
            + [m for m in kept if under_user_mount(m)])
