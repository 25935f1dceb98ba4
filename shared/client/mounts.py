"""`-v`, `--mount` and `--volumes-from` as the docker CLI sends them (cli/opts/mount.go,
cli/command/container/opts.go): `-v /path` asks for an anonymous volume
(Config.Volumes), `-v SRC:DST[:MODE]` is a bind or a named volume (HostConfig.Binds),
`--mount k=v,...` one mount.Mount (HostConfig.Mounts). The daemon checks the rest."""

from __future__ import annotations

from shared.flags import ram_in_bytes

TYPE_CHECKING = False  # not typing's: see shared/client/__init__.py
if TYPE_CHECKING:
    from typing import Any

TRUE_WORDS = {"1", "t", "T", "true", "TRUE", "True"}
FALSE_WORDS = {"0", "f", "F", "false", "FALSE", "False"}


class MountOptionError(ValueError):
    """A --mount the docker CLI itself refuses."""


def _bool(key: str, value: str | None) -> bool:
    if value is None or value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise MountOptionError(f'invalid value for {key}: {value}')


def parse_mount(text: str) -> dict[str, Any]:
    """`type=bind,source=/a,target=/b,readonly` -> a mount.Mount."""
    m: dict[str, Any] = {"Type": "volume"}
    bind: dict[str, Any] = {}
    volume: dict[str, Any] = {}
    tmpfs: dict[str, Any] = {}
    for field in text.split(","):
        key, has_value, value = field.partition("=")
        key = key.strip().lower()
        val = value if has_value else None
        if key in ("readonly", "ro"):
            m["ReadOnly"] = _bool(key, val)
            continue
        if key == "bind-nonrecursive":
            bind["NonRecursive"] = _bool(key, val)
            continue
        if key == "volume-nocopy":
            volume["NoCopy"] = _bool(key, val)
            continue
        if val is None:
            raise MountOptionError(f"invalid field '{field}' must be a key=value pair")
        if key == "type":
            m["Type"] = val.lower()
        elif key in ("source", "src"):
            m["Source"] = val
        elif key in ("target", "dst", "destination"):
            m["Target"] = val
        elif key == "bind-propagation":
            bind["Propagation"] = val.lower()
        elif key == "volume-driver":
            volume.setdefault("DriverConfig", {})["Name"] = val
        elif key == "volume-label":
            k, _, v = val.partition("=")
            volume.setdefault("Labels", {})[k] = v
        elif key == "volume-opt":
            k, _, v = val.partition("=")
            volume.setdefault("DriverConfig", {}).setdefault("Options", {})[k] = v
        elif key == "tmpfs-size":
            tmpfs["SizeBytes"] = ram_in_bytes(val)
        elif key == "tmpfs-mode":
            try:
                tmpfs["Mode"] = int(val, 8)
            except ValueError:
                raise MountOptionError(f"invalid value for {key}: {val}") from None
        else:
            raise MountOptionError(f"unexpected key '{key}' in '{field}'")
    if bind:
        m["BindOptions"] = bind
    if volume:
        m["VolumeOptions"] = volume
    if tmpfs:
        m["TmpfsOptions"] = tmpfs
    return m


def apply(options: dict[str, Any], body: dict[str, Any], host_config: dict[str, Any]) -> None:
    volumes: dict[str, dict] = {}
    binds: list[str] = []
    for spec in options.get("volume") or []:
        source, sep, rest = spec.partition(":")
        if sep and rest:
            binds.append(spec)
        else:
            volumes[spec] = {}
    if volumes:
        body["Volumes"] = volumes
    if binds:
        host_config["Binds"] = binds
    if options.get("mount"):
        host_config["Mounts"] = [parse_mount(m) for m in options["mount"]]
    if options.get("volumes_from"):
        host_config["VolumesFrom"] = list(options["volumes_from"])
