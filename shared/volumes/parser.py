"""`-v` and `--mount` as dockerd reads them (moby's daemon/volume/mounts/linux_parser.go).

A mount point is decided at create and kept in the container's record (a dict: it is
JSON there); these functions turn the request's forms into it, or refuse with dockerd's
words. Nothing here touches the disk except the one check dockerd makes at create: that
a `--mount type=bind` source exists (`-v` makes a missing one at start instead).
"""

from __future__ import annotations

import os
import posixpath

RW_MODES = {"ro", "rw"}
LABEL_MODES = {"z", "Z"}  # SELinux relabelling: accepted; this host has no SELinux
PROPAGATION_MODES = {"private", "rprivate", "slave", "rslave", "shared", "rshared"}
COPY_MODES = {"nocopy"}
CONSISTENCY_MODES = {"consistent", "cached", "delegated"}  # macOS's; meaningless here
DEFAULT_PROPAGATION = "rprivate"


class MountError(ValueError):
    """A mount dockerd refuses at create (HTTP 400); the text is dockerd's."""


def invalid_spec(raw: str) -> str:
    return f"invalid volume specification: '{raw}'"


def mount_config_error(kind: str, why: str) -> MountError:
    return MountError(f'invalid mount config for type "{kind}": {why}')


def valid_mode(mode: str) -> bool:
    """linuxValidMountMode: at most one of each kind of option, nothing unknown."""
    if not mode:
        return True
    counts = dict.fromkeys(("rw", "label", "propagation", "copy", "consistency"), 0)
    for option in mode.split(","):
        for kind, known in (("rw", RW_MODES), ("label", LABEL_MODES),
                            ("propagation", PROPAGATION_MODES), ("copy", COPY_MODES),
                            ("consistency", CONSISTENCY_MODES)):
            if option in known:
                counts[kind] += 1
                break
        else:
            return False
    return all(n <= 1 for n in counts.values())


def read_write(mode: str) -> bool:
    return valid_mode(mode) and "ro" not in mode.split(",")


def _clean(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/")).replace("//", "/")


def check_target(kind: str, target: str) -> None:
    if not target:
        raise mount_config_error(kind, "field Target must not be empty")
    if _clean(target) == "/":
        raise mount_config_error(kind, "invalid specification: destination can't be '/'")
    if not target.replace("\\", "/").startswith("/"):
        raise mount_config_error(
            kind, f"invalid mount path: '{target}' mount path must be absolute")


def mount_point(kind: str, destination: str, *, source: str = "", name: str = "",
                driver: str = "", mode: str = "", rw: bool = True, propagation: str = "",
                copy_data: bool = False, create_source: bool = False,
                tmpfs_options: str = "", driver_options: dict | None = None,
                labels: dict | None = None, from_image: bool = False) -> dict:
    """One mount point, as the container's record keeps it."""
    return {"Type": kind, "Name": name, "Source": source, "Destination": _clean(destination),
            "Driver": driver, "Mode": mode, "RW": rw, "Propagation": propagation,
            "CopyData": copy_data, "CreateSource": create_source,
            "TmpfsOptions": tmpfs_options, "DriverOptions": driver_options or {},
            "Labels": labels or {}, "FromImage": from_image}


def parse_bind(raw: str, volume_driver: str = "") -> dict:
    """One `-v` with a colon (HostConfig.Binds): SRC:DST[:MODE], SRC a host path (a bind)
    or a volume's name (ParseMountRaw)."""
    parts = raw.split(":", 3)
    if parts[0] == "":
        raise MountError(invalid_spec(raw))
    mode = ""
    if len(parts) == 1:
        source, target = "", parts[0]
    elif len(parts) == 2:
        if valid_mode(parts[1]):
            raise MountError(invalid_spec(raw))  # "/data:ro": no destination
        source, target = parts
    elif len(parts) == 3:
        source, target, mode = parts
    else:
        raise MountError(invalid_spec(raw))
    if not valid_mode(mode):
        raise MountError(f"invalid mode: {mode}")
    kind = "bind" if source.startswith("/") else "volume"
    options = mode.split(",") if mode else []
    try:
        check_target(kind, target)
    except MountError as e:
        raise MountError(f"{invalid_spec(raw)}: {e}") from None
    if kind == "bind":
        propagation = next((o for o in options if o in PROPAGATION_MODES),
                           DEFAULT_PROPAGATION)
        # A missing host directory is made at start, as dockerd does for -v (only).
        return mount_point("bind", target, source=_clean(source), mode=mode,
                           rw=read_write(mode), propagation=propagation,
                           create_source=True)
    return mount_point("volume", target, name=source, driver=volume_driver or "local",
                       mode=mode or "z", rw=read_write(mode),
                       propagation=next((o for o in options if o in PROPAGATION_MODES), ""),
                       copy_data="nocopy" not in options)


def parse_mount(m: dict) -> dict:
    """One `--mount` (HostConfig.Mounts: mount.Mount), checked as validateMountConfigImpl."""
    kind = m.get("Type") or ""
    for field, owner in (("BindOptions", "bind"), ("VolumeOptions", "volume"),
                         ("TmpfsOptions", "tmpfs")):
        if m.get(field) is not None and kind != owner:
            raise mount_config_error(kind, f"field {field} must not be specified")
    target = m.get("Target") or ""
    check_target(kind, target)
    source = m.get("Source") or ""
    ro = bool(m.get("ReadOnly"))
    if kind == "bind":
        options = m.get("BindOptions") or {}
        if not source:
            raise mount_config_error(kind, "field Source must not be empty")
        propagation = options.get("Propagation") or ""
        if propagation and propagation not in PROPAGATION_MODES:
            raise mount_config_error(kind, f"invalid propagation mode: {propagation}")
        if not source.replace("\\", "/").startswith("/"):
            raise mount_config_error(
                kind, f"invalid mount path: '{source}' mount path must be absolute")
        for flag in ("ReadOnlyNonRecursive", "ReadOnlyForceRecursive"):
            if options.get(flag):
                raise MountError(f"--mount bind-{flag}: not supported by this engine")
        create = bool(options.get("CreateMountpoint"))
        if not create and not os.path.exists(source):
            raise mount_config_error(kind, f"bind source path does not exist: {source}")
        point = mount_point("bind", target, source=_clean(source), rw=not ro,
                            propagation=propagation or DEFAULT_PROPAGATION,
                            create_source=create)
        # bind-nonrecursive: the source's mount alone, not the mounts below it
        point["NonRecursive"] = bool(options.get("NonRecursive"))
        return point
    if kind == "volume":
        options = m.get("VolumeOptions") or {}
        if options.get("Subpath"):
            if not source:
                raise mount_config_error(kind, "must not set Subpath when using anonymous "
                                               "volumes")
            raise MountError("--mount volume-subpath: not supported by this engine")
        driver = (options.get("DriverConfig") or {}).get("Name") or "local"
        # Mode "z": dockerd's setBindModeIfNull for a local volume (SELinux relabelling,
        # which means nothing on this host, but is what inspect shows)
        return mount_point("volume", target, name=source, driver=driver, rw=not ro,
                           mode="z" if driver == "local" else "",
                           copy_data=not options.get("NoCopy"),
                           driver_options=(options.get("DriverConfig") or {}).get("Options"),
                           labels=options.get("Labels"))
    if kind == "tmpfs":
        if source:
            raise mount_config_error(kind, "field Source must not be specified")
        return mount_point("tmpfs", target, rw=not ro,
                           tmpfs_options=tmpfs_options(m.get("TmpfsOptions") or {}, ro))
    if kind in ("npipe", "cluster", "image"):
        raise MountError(f"--mount type={kind}: not supported by this engine")
    raise mount_config_error(kind, "mount type unknown")


def tmpfs_options(options: dict, readonly: bool) -> str:
    """ConvertTmpfsOptions: the data of a `--mount type=tmpfs`."""
    raw = ["ro"] if readonly else []
    if options.get("Mode"):
        raw.append(f"mode={int(options['Mode']):o}")
    size = int(options.get("SizeBytes") or 0)
    if size:
        suffix = ""
        for letter, divisor in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
            if size % divisor == 0:
                size, suffix = size // divisor, letter
                break
        raw.append(f"size={size}{suffix}")
    for option in options.get("Options") or []:
        if not 1 <= len(option) <= 2:
            raise mount_config_error("tmpfs", "invalid option array length")
        if option[0] not in ("exec", "noexec"):
            raise mount_config_error("tmpfs", f"invalid option: {option[0]}")
        raw.append("=".join(option))
    return ",".join(raw)


def parse_volumes_from(spec: str) -> tuple[str, str]:
    """`--volumes-from NAME[:MODE]` -> (container, mode) (ParseVolumesFrom)."""
    if not spec:
        raise MountError("volumes-from specification cannot be an empty string")
    ref, _, mode = spec.partition(":")
    if not mode:
        return ref, "rw"
    options = mode.split(",")
    if (not valid_mode(mode) or any(o in PROPAGATION_MODES for o in options)
            or any(o in COPY_MODES for o in options)):
        raise MountError(f"invalid mode: {mode}")
    return ref, mode
