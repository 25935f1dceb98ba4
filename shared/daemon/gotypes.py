"""The JSON types dockerd's Go decoder accepts, checked before a request body is used.

dockerd decodes each request body into Go structs (api/types: container.Config,
container.HostConfig, network.EndpointSettings...). A string where an int64 belongs, a
float where an int belongs, a list where a map belongs: the decoder refuses it, and the
client gets a 400 before any code has looked at the values. Python's json hands us
whatever the client sent, so a body is checked here against the same Go types, once,
where it comes in; past that point the code may trust `host_config["Memory"]` to be an
int. The tables below are API 1.45's structs (moby v26.1, api/types/...), field by field.

As in Go: a null is accepted for any field (it leaves the zero value), a field not in
the struct is ignored, an integer must be written as one (1.0 is no int64) and fit its
type. NaN and the infinities never get here: the body's parser refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import InvalidParameter


@dataclass(frozen=True)
class ListOf:
    """A Go slice: []item."""

    item: GoType


@dataclass(frozen=True)
class MapOf:
    """A Go map with string keys: map[string]value."""

    value: GoType


# A Go type: the name of a scalar ("string", "bool", an integer kind, "strslice": a
# string or a list of them, as docker's strslice.StrSlice reads), a slice, a map, or a
# struct written as a dict of its typed fields.
GoType = str | ListOf | MapOf | dict

INTEGERS = {
    "int": (-(2**63), 2**63 - 1),  # Go's int on the 64-bit machines dockerd runs on
    "int64": (-(2**63), 2**63 - 1),
    "uint": (0, 2**64 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}

STRINGS = ListOf("string")
STRING_MAP = MapOf("string")
EMPTY_STRUCT: dict = {}  # struct{}: any object (nat.PortSet, Volumes)

_THROTTLE_DEVICE = {"Path": "string", "Rate": "uint64"}
_WEIGHT_DEVICE = {"Path": "string", "Weight": "uint16"}

MOUNT = {
    "Type": "string", "Source": "string", "Target": "string", "ReadOnly": "bool",
    "Consistency": "string",
    "BindOptions": {"Propagation": "string", "NonRecursive": "bool",
                    "CreateMountpoint": "bool", "ReadOnlyNonRecursive": "bool",
                    "ReadOnlyForceRecursive": "bool"},
    "VolumeOptions": {"NoCopy": "bool", "Labels": STRING_MAP, "Subpath": "string",
                      "DriverConfig": {"Name": "string", "Options": STRING_MAP}},
    "TmpfsOptions": {"SizeBytes": "int64", "Mode": "uint32"},
}

# container.HostConfig, with container.Resources embedded in it.
HOST_CONFIG = {
    "Binds": STRINGS, "ContainerIDFile": "string",
    "LogConfig": {"Type": "string", "Config": STRING_MAP},
    "NetworkMode": "string",
    "PortBindings": MapOf(ListOf({"HostIp": "string", "HostPort": "string"})),  # nat.PortMap
    "RestartPolicy": {"Name": "string", "MaximumRetryCount": "int"},
    "AutoRemove": "bool", "VolumeDriver": "string", "VolumesFrom": STRINGS,
    "ConsoleSize": ListOf("uint"),  # [2]uint
    "Annotations": STRING_MAP,
    "CapAdd": "strslice", "CapDrop": "strslice", "CgroupnsMode": "string",
    "Dns": STRINGS, "DnsOptions": STRINGS, "DnsSearch": STRINGS, "ExtraHosts": STRINGS,
    "GroupAdd": STRINGS, "IpcMode": "string", "Cgroup": "string", "Links": STRINGS,
    "OomScoreAdj": "int", "PidMode": "string", "Privileged": "bool",
    "PublishAllPorts": "bool", "ReadonlyRootfs": "bool", "SecurityOpt": STRINGS,
    "StorageOpt": STRING_MAP, "Tmpfs": STRING_MAP, "UTSMode": "string",
    "UsernsMode": "string", "ShmSize": "int64", "Sysctls": STRING_MAP, "Runtime": "string",
    "Isolation": "string",
    "CpuShares": "int64", "Memory": "int64", "NanoCpus": "int64", "CgroupParent": "string",
    "BlkioWeight": "uint16", "BlkioWeightDevice": ListOf(_WEIGHT_DEVICE),
    "BlkioDeviceReadBps": ListOf(_THROTTLE_DEVICE),
    "BlkioDeviceWriteBps": ListOf(_THROTTLE_DEVICE),
    "BlkioDeviceReadIOps": ListOf(_THROTTLE_DEVICE),
    "BlkioDeviceWriteIOps": ListOf(_THROTTLE_DEVICE),
    "CpuPeriod": "int64", "CpuQuota": "int64", "CpuRealtimePeriod": "int64",
    "CpuRealtimeRuntime": "int64", "CpusetCpus": "string", "CpusetMems": "string",
    "Devices": ListOf({"PathOnHost": "string", "PathInContainer": "string",
                       "CgroupPermissions": "string"}),
    "DeviceCgroupRules": STRINGS,
    "DeviceRequests": ListOf({"Driver": "string", "Count": "int", "DeviceIDs": STRINGS,
                              "Capabilities": ListOf(STRINGS), "Options": STRING_MAP}),
    "KernelMemory": "int64", "KernelMemoryTCP": "int64", "MemoryReservation": "int64",
    "MemorySwap": "int64", "MemorySwappiness": "int64", "OomKillDisable": "bool",
    "PidsLimit": "int64",
    "Ulimits": ListOf({"Name": "string", "Hard": "int64", "Soft": "int64"}),
    "CpuCount": "int64", "CpuPercent": "int64", "IOMaximumIOps": "uint64",
    "IOMaximumBandwidth": "uint64",
    "Mounts": ListOf(MOUNT), "MaskedPaths": STRINGS, "ReadonlyPaths": STRINGS,
    "Init": "bool",
}

# network.EndpointSettings: a container's settings on one network.
ENDPOINT_SETTINGS = {
    "IPAMConfig": {"IPv4Address": "string", "IPv6Address": "string",
                   "LinkLocalIPs": STRINGS},
    "Links": STRINGS, "Aliases": STRINGS, "MacAddress": "string", "NetworkID": "string",
    "EndpointID": "string", "Gateway": "string", "IPAddress": "string",
    "IPPrefixLen": "int", "IPv6Gateway": "string", "GlobalIPv6Address": "string",
    "GlobalIPv6PrefixLen": "int", "DriverOpts": STRING_MAP, "DNSNames": STRINGS,
}

# container.Config, and the create request that embeds it (container.CreateRequest).
CREATE_REQUEST = {
    "Hostname": "string", "Domainname": "string", "User": "string",
    "AttachStdin": "bool", "AttachStdout": "bool", "AttachStderr": "bool",
    "ExposedPorts": MapOf(EMPTY_STRUCT), "Tty": "bool", "OpenStdin": "bool",
    "StdinOnce": "bool", "Env": STRINGS, "Cmd": "strslice",
    "Healthcheck": {"Test": STRINGS, "Interval": "int64", "Timeout": "int64",
                    "StartPeriod": "int64", "StartInterval": "int64", "Retries": "int"},
    "ArgsEscaped": "bool", "Image": "string", "Volumes": MapOf(EMPTY_STRUCT),
    "WorkingDir": "string", "Entrypoint": "strslice", "NetworkDisabled": "bool",
    "MacAddress": "string", "OnBuild": STRINGS, "Labels": STRING_MAP,
    "StopSignal": "string", "StopTimeout": "int", "Shell": "strslice",
    "HostConfig": HOST_CONFIG,
    "NetworkingConfig": {"EndpointsConfig": MapOf(ENDPOINT_SETTINGS)},
}

# types.ExecConfig (POST /containers/{id}/exec) and types.ExecStartCheck.
EXEC_CONFIG = {
    "User": "string", "Privileged": "bool", "Tty": "bool", "ConsoleSize": ListOf("uint"),
    "AttachStdin": "bool", "AttachStderr": "bool", "AttachStdout": "bool",
    "Detach": "bool", "DetachKeys": "string", "Env": STRINGS, "WorkingDir": "string",
    "Cmd": "strslice",
}
EXEC_START = {"Detach": "bool", "Tty": "bool", "ConsoleSize": ListOf("uint")}

# network.CreateRequest, network.ConnectOptions / DisconnectOptions.
NETWORK_CREATE = {
    "Name": "string", "CheckDuplicate": "bool", "Driver": "string", "Scope": "string",
    "EnableIPv6": "bool",
    "IPAM": {"Driver": "string", "Options": STRING_MAP,
             "Config": ListOf({"Subnet": "string", "IPRange": "string", "Gateway": "string",
                               "AuxiliaryAddresses": STRING_MAP})},
    "Internal": "bool", "Attachable": "bool", "Ingress": "bool", "ConfigOnly": "bool",
    "ConfigFrom": {"Network": "string"}, "Options": STRING_MAP, "Labels": STRING_MAP,
}
NETWORK_CONNECT = {"Container": "string", "EndpointConfig": ENDPOINT_SETTINGS}
NETWORK_DISCONNECT = {"Container": "string", "Force": "bool"}

# volume.CreateOptions (POST /volumes/create); ClusterVolumeSpec is swarm's, refused.
VOLUME_CREATE = {"Name": "string", "Driver": "string", "DriverOpts": STRING_MAP,
                 "Labels": STRING_MAP}

# registry.AuthConfig (POST /auth).
AUTH_CONFIG = {
    "username": "string", "password": "string", "auth": "string", "email": "string",
    "serveraddress": "string", "identitytoken": "string", "registrytoken": "string",
}


def json_type(value: object) -> str:
    """What Go's decoder calls a JSON value in its messages."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def type_name(gotype: GoType) -> str:
    if isinstance(gotype, ListOf):
        return f"[]{type_name(gotype.item)}"
    if isinstance(gotype, MapOf):
        return f"map[string]{type_name(gotype.value)}"
    if isinstance(gotype, dict):
        return "object"
    return "[]string" if gotype == "strslice" else gotype


def check(value: object, gotype: GoType, where: str) -> None:
    """Raise dockerd's 400 if `value` cannot be decoded into `gotype`; `where` names the
    field (HostConfig.Memory, Labels[a]) in the message."""
    if value is None:
        return
    if isinstance(gotype, ListOf) and isinstance(value, list):
        for i, item in enumerate(value):
            check(item, gotype.item, f"{where}[{i}]")
    elif isinstance(gotype, MapOf) and isinstance(value, dict):
        for key, item in value.items():
            check(item, gotype.value, f"{where}[{key}]")
    elif isinstance(gotype, dict) and isinstance(value, dict):
        for key, field_type in gotype.items():
            check(value.get(key), field_type, f"{where}.{key}")
    elif not (isinstance(gotype, str) and _scalar_fits(value, gotype)):
        got = json_type(value)
        if got == "number":
            got = f"number {value}"
        raise InvalidParameter(
            f"invalid JSON: cannot unmarshal {got} into {where} of type {type_name(gotype)}")


def check_body(body: dict, struct: dict) -> None:
    """A request body (a JSON object) against a struct's fields."""
    for key, field_type in struct.items():
        check(body.get(key), field_type, key)


def _scalar_fits(value: object, gotype: str) -> bool:
    if gotype == "string":
        return isinstance(value, str)
    if gotype == "bool":
        return isinstance(value, bool)
    if gotype == "strslice":
        return isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value))
    low, high = INTEGERS[gotype]
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
