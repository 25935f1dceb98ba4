"""Every field of a create request: applied, or refused. Never accepted and ignored.

A Docker user types `--cap-drop ALL` or `--restart always` and trusts that it took.
An engine that stores the field, echoes it in `docker inspect` and does nothing with
it teaches the wrong lesson, and fails open where the field was a safety measure.
So each field of the Engine API's Config and HostConfig (API 1.41 to 1.45, as
shared/daemon/gotypes.py decodes them) is listed here, with the code that applies it
or the option a user would have typed to set it, which is refused with a 400 that
names it. tests/unit/test_createfields.py checks that the lists cover every field
gotypes knows, so a field added there cannot slip through unhandled.

A field left at its zero value (what the docker CLI sends for a flag not given) is
not a request: only a set field is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import InvalidParameter

ENGINE_ANNOTATIONS = "org.whalebones."  # runtime_spec.INTERFACES_ANNOTATION and the like


@dataclass(frozen=True)
class Applied:
    """Honoured in every era; `by` says where, for the reader."""

    by: str


@dataclass(frozen=True)
class Refused:
    """Not (yet) applied by this engine: a create that sets it is refused.

    `option`: the docker CLI flag that sets the field, as the user typed it.
    `planned`: the engine is to apply it later (the message says "yet")."""

    option: str
    planned: bool = False
    said: str = ""  # dockerd's own words for it, where dockerd refuses it too

    def message(self) -> str:
        if self.said:
            return self.said
        return f"{self.option} is not supported by this engine{' yet' if self.planned else ''}"


Handling = Applied | Refused

# container.Config
CONFIG: dict[str, Handling] = {
    "Hostname": Applied("runtime_spec.build: spec.hostname"),
    "Domainname": Applied("runtime_spec.build: spec.domainname"),
    "User": Applied("the daemon's user lookup: spec.process.user"),
    "AttachStdin": Applied("the attach streams (shared/daemon/stdio.py)"),
    "AttachStdout": Applied("the attach streams (shared/daemon/stdio.py)"),
    "AttachStderr": Applied("the attach streams (shared/daemon/stdio.py)"),
    "ExposedPorts": Applied("`docker ps`, -P (shared/network/portmap.py)"),
    "Tty": Applied("runtime_spec.build: spec.process.terminal"),
    "OpenStdin": Applied("the attach streams (shared/daemon/stdio.py)"),
    "StdinOnce": Applied("the attach streams (shared/daemon/stdio.py)"),
    "Env": Applied("runtime_spec.build: spec.process.env"),
    "Cmd": Applied("containerconfig.command"),
    "Healthcheck": Applied("shared/daemon/health.py: a probe exec'd on a timer"),
    # Windows' command-line quoting; on Linux arguments are an argv, never a line.
    "ArgsEscaped": Applied("nothing to do on Linux (Windows' command-line quoting)"),
    "Image": Applied("the engine: the container's image"),
    "Volumes": Applied("shared/volumes/mountpoints.py: an anonymous volume each"),
    "WorkingDir": Applied("runtime_spec.build: spec.process.cwd"),
    "Entrypoint": Applied("containerconfig.command"),
    "NetworkDisabled": Applied("containerconfig.merge: no network, as --network none"),
    "MacAddress": Applied("shared/network/macaddr.py: the veth's address (links.plug; "
                          "stage 1: lxc.net.N.hwaddr)"),
    # Instructions `docker build` keeps in an image's config; a container keeps them
    # for `docker commit`, as dockerd does, and nothing at run time reads them.
    "OnBuild": Applied("kept for docker commit (a build-time field)"),
    "Labels": Applied("the container record: docker inspect, ps --filter label="),
    "StopSignal": Applied("docker stop (shared/daemon/lifecycle.py)"),
    "StopTimeout": Applied("docker stop (shared/daemon/lifecycle.py)"),
    "Shell": Applied("kept for docker commit (a build-time field)"),
    "HostConfig": Applied("each of its fields: HOST_CONFIG"),
    "NetworkingConfig": Applied("the networks joined at start (shared/daemon/networking.py)"),
}

# container.HostConfig
HOST_CONFIG: dict[str, Handling] = {
    "Binds": Applied("shared/volumes/mountpoints.py: binds and named volumes"),
    # The CLI writes the file itself; dockerd only keeps the name, as here.
    "ContainerIDFile": Applied("the client (--cidfile): the daemon keeps the name"),
    "LogConfig": Applied("shared/daemon/logdrivers.py (json-file, local, none; others "
                         "refused)"),
    "NetworkMode": Applied("shared/daemon/networking.py"),
    "PortBindings": Applied("shared/network/portmap.py, nat.py"),
    "RestartPolicy": Applied("shared/daemon/restartpolicy.py: the engine at each exit"),
    "AutoRemove": Applied("the engine: removed when it exits"),
    "VolumeDriver": Applied("shared/volumes/store.py: local only, else 404 no such plugin"),
    "VolumesFrom": Applied("shared/volumes/mountpoints.py: the other's mount points"),
    "ConsoleSize": Applied("runtime_spec.build: spec.process.consoleSize"),
    "Annotations": Applied("runtime_spec.build: spec.annotations"),
    "CapAdd": Applied("shared/oci/confinement.capabilities: process.capabilities"),
    "CapDrop": Applied("shared/oci/confinement.capabilities: process.capabilities"),
    "CgroupnsMode": Applied("shared/oci/namespace_modes.py: the cgroup namespace or the host's"),
    "Dns": Applied("shared/daemon/etcfiles.py: /etc/resolv.conf"),
    "DnsOptions": Applied("shared/daemon/etcfiles.py: /etc/resolv.conf"),
    "DnsSearch": Applied("shared/daemon/etcfiles.py: /etc/resolv.conf"),
    "ExtraHosts": Applied("shared/daemon/etcfiles.py: /etc/hosts"),
    "GroupAdd": Applied("shared/oci/users.additional_groups: process.user.additionalGids"),
    "IpcMode": Applied("shared/oci/namespace_modes.py, shared/daemon/sharing.py"),
    "Cgroup": Refused("--cgroup (another container's cgroup)"),
    "Links": Refused("--link"),
    "OomScoreAdj": Applied("shared/oci/confinement.oom_score_adj: process.oomScoreAdj"),
    "PidMode": Applied("shared/oci/namespace_modes.py, shared/daemon/sharing.py"),
    "Privileged": Applied("runtime_spec.confine (capabilities, paths, /sys, seccomp), "
                          "devices.apply (the host's nodes)"),
    "PublishAllPorts": Applied("shared/network/portmap.py"),
    "ReadonlyRootfs": Applied("runtime_spec.confine: root.readonly, read-only mounts"),
    "SecurityOpt": Applied("shared/oci/confinement.security_options, "
                           "runtime_spec.seccomp_policy"),
    "StorageOpt": Refused("--storage-opt"),
    "Tmpfs": Applied("shared/oci/tmpfs.py: a tmpfs mount each"),
    "UTSMode": Applied("shared/oci/namespace_modes.py"),
    "UsernsMode": Applied("check_host_fields: only the host's user namespace, as dockerd "
                          "without userns-remap"),
    "ShmSize": Applied("shared/oci/tmpfs.py: /dev/shm's size"),
    "Sysctls": Applied("shared/oci/confinement.sysctls: linux.sysctl"),
    "Runtime": Applied("check_host_fields: only this engine's own runtime"),
    "Isolation": Applied("check_host_fields: only 'default', as dockerd on Linux"),
    "CpuShares": Applied("runtime_spec.resources: linux.resources.cpu.shares"),
    "Memory": Applied("runtime_spec.resources: linux.resources.memory.limit"),
    "NanoCpus": Applied("runtime_spec.resources: linux.resources.cpu quota/period"),
    "CgroupParent": Applied("runtime_spec.cgroups_path: linux.cgroupsPath"),
    "BlkioWeight": Applied("resources.to_spec: blockIO.weight"),
    "BlkioWeightDevice": Applied("resources.to_spec: blockIO.weightDevice"),
    "BlkioDeviceReadBps": Applied("resources.to_spec: blockIO throttle"),
    "BlkioDeviceWriteBps": Applied("resources.to_spec: blockIO throttle"),
    "BlkioDeviceReadIOps": Applied("resources.to_spec: blockIO throttle"),
    "BlkioDeviceWriteIOps": Applied("resources.to_spec: blockIO throttle"),
    "CpuPeriod": Applied("runtime_spec.resources: linux.resources.cpu.period"),
    "CpuQuota": Applied("runtime_spec.resources: linux.resources.cpu.quota"),
    "CpuRealtimePeriod": Applied("resources.to_spec: cpu.realtimePeriod"),
    "CpuRealtimeRuntime": Applied("resources.to_spec: cpu.realtimeRuntime"),
    "CpusetCpus": Applied("runtime_spec.resources: linux.resources.cpu.cpus"),
    "CpusetMems": Applied("runtime_spec.resources: linux.resources.cpu.mems"),
    "Devices": Applied("shared/oci/devices.apply: linux.devices and their rules"),
    "DeviceCgroupRules": Applied("shared/oci/devices.apply: linux.resources.devices"),
    "DeviceRequests": Refused("--gpus"),
    "KernelMemory": Refused("--kernel-memory"),  # dockerd ignores it since API 1.42
    "KernelMemoryTCP": Refused("KernelMemoryTCP"),  # API only: no flag sets it
    "MemoryReservation": Applied("resources.to_spec: memory.reservation"),
    "MemorySwap": Applied("runtime_spec.resources: linux.resources.memory.swap"),
    "MemorySwappiness": Applied("resources.to_spec: memory.swappiness; refused on v2"),
    "OomKillDisable": Applied("shared/oci/confinement.oom_kill_disable: v1's "
                              "memory.oom_control; refused on v2"),
    "PidsLimit": Applied("runtime_spec.resources: linux.resources.pids.limit"),
    "Ulimits": Applied("shared/oci/confinement.rlimits: process.rlimits"),
    "CpuCount": Refused("--cpu-count (Windows only)"),
    "CpuPercent": Refused("--cpu-percent (Windows only)"),
    "IOMaximumIOps": Refused("--io-maxiops", said="invalid option: QoS maximum IOPs "
                              "configuration is not supported on linux"),
    "IOMaximumBandwidth": Refused("--io-maxbandwidth", said="invalid option: QoS maximum "
                                   "bandwidth configuration is not supported on linux"),
    "Mounts": Applied("shared/volumes/parser.py parse_mount: bind, volume, tmpfs"),
    "MaskedPaths": Applied("confinement.system_paths: linux.maskedPaths (replacing Docker's)"),
    "ReadonlyPaths": Applied("confinement.system_paths: linux.readonlyPaths (replacing "
                             "Docker's)"),
    "Init": Applied("runtime_spec.with_init: tini as /sbin/docker-init, PID 1"),
}

# network.EndpointSettings: a container's settings on one network
# (NetworkingConfig.EndpointsConfig, and `docker network connect`).
ENDPOINT: dict[str, Handling] = {
    "IPAMConfig": Applied("shared/network/manager.py: IPv4Address (--ip); see IPAM_CONFIG"),
    "Links": Refused("--link"),
    "Aliases": Applied("shared/network/dns.py: the network's DNS answers them"),
    "MacAddress": Applied("shared/network/macaddr.py: the veth's address (links.plug; "
                          "stage 1: lxc.net.N.hwaddr)"),
    "DriverOpts": Refused("--network driver-opt"),
    # What `docker inspect` reports of an endpoint; a client sending them back (as
    # docker-py does with a container's own settings) asks for nothing.
    "NetworkID": Applied("reported by inspect; the network is the key"),
    "EndpointID": Applied("reported by inspect"),
    "Gateway": Applied("reported by inspect"),
    "IPAddress": Applied("reported by inspect"),
    "IPPrefixLen": Applied("reported by inspect"),
    "IPv6Gateway": Applied("reported by inspect"),
    "GlobalIPv6Address": Applied("reported by inspect"),
    "GlobalIPv6PrefixLen": Applied("reported by inspect"),
    "DNSNames": Applied("reported by inspect"),
}
IPAM_CONFIG: dict[str, Handling] = {
    "IPv4Address": Applied("shared/network/manager.py: the container's address"),
    "IPv6Address": Refused("--ip6"),
    "LinkLocalIPs": Refused("--link-local-ip"),
}


def is_set(key: str, value: object) -> bool:
    """Whether a field asks for something: not its zero value (nor, for the fields
    whose "unset" is spelled otherwise, that spelling)."""
    if value in (None, False, 0, "", [], {}):
        return False
    if key == "MemorySwappiness":
        return value != -1  # the API's "unset" for this one
    if key == "ConsoleSize":
        return isinstance(value, list) and any(value)  # a [2]uint
    if key == "RestartPolicy":
        return isinstance(value, dict) and value.get("Name") not in (None, "", "no")
    return True


def refuse_unsupported(body: dict, runtime: str) -> None:
    """400 for the first field of the request that this engine does not apply.

    `runtime`: the name of this engine's one runtime (`docker info` shows it)."""
    host_config = body.get("HostConfig") or {}
    for fields, given in ((CONFIG, body), (HOST_CONFIG, host_config)):
        for key, handling in fields.items():
            if isinstance(handling, Refused) and is_set(key, given.get(key)):
                raise InvalidParameter(handling.message())
    check_host_fields(host_config, runtime)
    endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    for settings in endpoints.values():
        refuse_unsupported_endpoint(settings or {})


def refuse_unsupported_endpoint(settings: dict) -> None:
    """400 for an endpoint setting (one network's) that this engine does not apply."""
    ipam = settings.get("IPAMConfig") or {}
    for fields, given in ((ENDPOINT, settings), (IPAM_CONFIG, ipam)):
        for key, handling in fields.items():
            if isinstance(handling, Refused) and is_set(key, given.get(key)):
                raise InvalidParameter(handling.message())


def check_host_fields(host_config: dict, runtime: str) -> None:
    """The fields that take one value here, with dockerd's words for any other."""
    isolation = host_config.get("Isolation") or ""
    if isolation not in ("", "default"):
        raise InvalidParameter(f"invalid isolation '{isolation}' on linux")
    userns = host_config.get("UsernsMode") or ""
    if userns not in ("", "host"):
        # dockerd without userns-remap runs every container in the host's user
        # namespace whatever this says; here a request for another is refused.
        raise InvalidParameter(f"--userns {userns} is not supported by this engine: "
                               "containers share the host's user namespace")
    wanted = host_config.get("Runtime") or ""
    if wanted not in ("", runtime):
        raise InvalidParameter(f"unknown or invalid runtime name: {wanted}")
    for key in host_config.get("Annotations") or {}:
        if key == "":
            raise InvalidParameter("invalid Annotations: the empty string is not "
                                   "permitted as an annotation key")
        if key.startswith(ENGINE_ANNOTATIONS):
            # The engine tells its executor things in these (stage 1's network plan):
            # a user's own would be taken for the engine's.
            raise InvalidParameter(f"invalid Annotations: {key!r}: keys under "
                                   f"{ENGINE_ANNOTATIONS!r} are the engine's own")
