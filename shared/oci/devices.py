"""Device nodes a container gets beyond the default few: --device, --device-cgroup-rule,
and --privileged's device side. As moby's daemon/oci_linux.go WithDevices does.

Two lists in the spec work together. `linux.devices` says which nodes the runtime
creates in the container's /dev (type, major:minor, mode, owner: read from the host's
node, since the number is what names a device to the kernel). `linux.resources.devices`
is the allow-list the kernel enforces at every open() and mknod() (v1: the devices
controller; v2: an eBPF program): a node that exists but is not allowed still cannot
be opened, and one a container mknods itself is only usable if a rule allows it.

Docker does this at each start, not at create: a --device whose host node is gone,
or a malformed rule sent by an API client (the docker CLI checks rules itself), makes
the start fail with a 500, the container remaining created.
"""

from __future__ import annotations

import os
import re
import stat

from shared.errors import EngineError

# moby daemon/pkg/oci/oci.go: "a" stands alone only in the kernel's own syntax; Docker
# asks for the full "type major:minor access".
CGROUP_RULE = re.compile(r"([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})")

# containerd's oci.HostDevices skips these under /dev: mounts of their own in every
# container (pts, shm, mqueue), symlink farms (fd), and LXC/LXD/udev private state.
SKIPPED_DIRS = {"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"}


class DeviceError(EngineError):
    """A start-time failure to gather devices (Docker: a system error, 500)."""


class NotADevice(Exception):
    pass


def device_from_path(path: str) -> dict:
    """The spec entry for the node at `path` (not followed if a symlink), as
    containerd's DeviceFromPath: its type, numbers, permission bits and owner."""
    st = os.lstat(path)
    if stat.S_ISBLK(st.st_mode):
        kind = "b"
    elif stat.S_ISCHR(st.st_mode):
        kind = "c"
    elif stat.S_ISFIFO(st.st_mode):
        kind = "p"
    else:
        raise NotADevice(path)
    return {
        "path": path, "type": kind,
        "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev),
        "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
    }


def _allow(device: dict, access: str) -> dict:
    return {"allow": True, "type": device["type"], "major": device["major"],
            "minor": device["minor"], "access": access}


def devices_from_path(on_host: str, in_container: str, access: str) -> tuple[list, list]:
    """One --device: the node, or every node under a directory (Docker walks it,
    keeping the relative paths), with an allow rule for each."""
    resolved = on_host
    if os.path.islink(on_host):
        resolved = os.path.realpath(on_host)
    try:
        device = device_from_path(resolved)
        device["path"] = in_container
        return [device], [_allow(device, access)]
    except NotADevice:
        error = "not a device node"
    except OSError as e:
        error = e.strerror or str(e)
    devs: list[dict] = []
    rules: list[dict] = []
    if error == "not a device node" and os.path.isdir(resolved):
        for root, dirs, files in os.walk(resolved):
            dirs.sort()
            for name in sorted(dirs + files):
                full = os.path.join(root, name)
                try:
                    child = device_from_path(full)
                except (NotADevice, OSError):
                    continue
                child["path"] = full.replace(resolved, in_container, 1)
                devs.append(child)
                rules.append(_allow(child, access))
    if devs:
        return devs, rules
    raise DeviceError("error gathering device information while adding custom device "
                      f'"{on_host}": {error.lower()}')


def cgroup_rules(rules: list[str]) -> list[dict]:
    """--device-cgroup-rule values ("c 1:3 rwm", "b *:* m") as allow rules."""
    out = []
    for text in rules:
        m = CGROUP_RULE.fullmatch(text) if isinstance(text, str) else None
        if not m:
            raise DeviceError(f"invalid device cgroup rule format: '{text}'")
        kind, major, minor, access = m.groups()
        out.append({"allow": True, "type": kind,
                    "major": -1 if major == "*" else int(major),
                    "minor": -1 if minor == "*" else int(minor), "access": access})
    return out


def host_devices(root: str = "/dev") -> list[dict]:
    """Every device node of the host's /dev, as containerd's oci.HostDevices
    (--privileged): no fifos, no console (the runtime makes its own), and not the
    directories every container mounts afresh."""
    found: list[dict] = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in SKIPPED_DIRS:
                found += host_devices(entry.path)
            continue
        if entry.name == "console":
            continue
        try:
            device = device_from_path(entry.path)
        except (NotADevice, FileNotFoundError):
            continue
        if device["type"] == "p":
            continue
        found.append(device)
    return found


def apply(spec: dict, host_config: dict) -> None:
    """HostConfig.Devices, DeviceCgroupRules and Privileged -> the spec's two lists."""
    linux = spec["linux"]
    allowed = linux.setdefault("resources", {}).setdefault("devices", [])
    devs: list[dict] = []
    mappings = host_config.get("Devices") or []
    if host_config.get("Privileged"):
        devs += host_devices()
        for m in mappings:
            # The host's nodes are all there already under their own names; Docker
            # adds only a mapping to another path (with rwm, whatever was asked).
            if m.get("PathOnHost") == m.get("PathInContainer"):
                continue
            devs += devices_from_path(m.get("PathOnHost") or "",
                                      m.get("PathInContainer") or "", "rwm")[0]
        allowed[:] = [{"allow": True, "access": "rwm"}]
    else:
        for m in mappings:
            on_host = m.get("PathOnHost") or ""
            d, r = devices_from_path(on_host, m.get("PathInContainer") or on_host,
                                     m.get("CgroupPermissions") or "rwm")
            devs += d
            allowed += r
        allowed += cgroup_rules(host_config.get("DeviceCgroupRules") or [])
    linux.setdefault("devices", []).extend(devs)
