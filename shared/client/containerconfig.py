"""From `run`/`create` flags to the JSON body of `POST /containers/create`.

The body is Docker's container Config (what runs: image, command, environment,
user, TTY...) with two nested objects: HostConfig (how the host confines it:
memory, CPU, pids, network, auto-remove) and NetworkingConfig.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import sys

from shared import goduration
from shared.client import mounts, portspecs
from shared.client.api import APIError, Client
from shared.flags import Flag, integer, nano_cpus, ram_in_bytes

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

FLAGS = [
    Flag("-i, --interactive", "Keep STDIN open even if not attached"),
    Flag("-t, --tty", "Allocate a pseudo-TTY"),
    Flag("--name", "Assign a name to the container", metavar="string"),
    Flag("-e, --env", "Set environment variables", metavar="list", many=True),
    Flag("--env-file", "Read in a file of environment variables", metavar="list", many=True),
    Flag("-w, --workdir", "Working directory inside the container", metavar="string"),
    Flag("-u, --user", "Username or UID (format: <name|uid>[:<group|gid>])", metavar="string"),
    Flag("-h, --hostname", "Container host name", metavar="string"),
    Flag("-m, --memory", "Memory limit", metavar="bytes", convert=ram_in_bytes),
    Flag("--pids-limit", "Tune container pids limit (set -1 for unlimited)", metavar="int",
         convert=integer),
    Flag("--cpus", "Number of CPUs", metavar="decimal", convert=nano_cpus),
    Flag("-c, --cpu-shares", "CPU shares (relative weight)", metavar="int", convert=integer),
    # Resource limits beyond -m/--cpus (parsed as docker's CLI does: cli/opts).
    Flag("--memory-reservation", "Memory soft limit", metavar="bytes", convert=ram_in_bytes),
    Flag("--memory-swap", "Swap limit equal to memory plus swap: '-1' to enable unlimited "
         "swap", metavar="bytes", convert=lambda t: -1 if t == "-1" else ram_in_bytes(t)),
    Flag("--memory-swappiness", "Tune container memory swappiness (0 to 100)", metavar="int",
         convert=integer),
    Flag("--blkio-weight", "Block IO (relative weight), between 10 and 1000, or 0 to "
         "disable (default 0)", metavar="uint16", convert=lambda t: unsigned(t, 16)),
    Flag("--device-read-bps", "Limit read rate (bytes per second) from a device",
         metavar="list", many=True, convert=lambda t: throttle_device(t, bytes_rate=True)),
    Flag("--device-write-bps", "Limit write rate (bytes per second) to a device",
         metavar="list", many=True, convert=lambda t: throttle_device(t, bytes_rate=True)),
    Flag("--device-read-iops", "Limit read rate (IO per second) from a device",
         metavar="list", many=True, convert=lambda t: throttle_device(t, bytes_rate=False)),
    Flag("--device-write-iops", "Limit write rate (IO per second) to a device",
         metavar="list", many=True, convert=lambda t: throttle_device(t, bytes_rate=False)),
    Flag("--cpu-period", "Limit CPU CFS (Completely Fair Scheduler) period", metavar="int",
         convert=integer),
    Flag("--cpu-quota", "Limit CPU CFS (Completely Fair Scheduler) quota", metavar="int",
         convert=integer),
    Flag("--network", "Connect a container to a network", metavar="network"),
    Flag("--network-alias", "Add network-scoped alias for the container", metavar="list",
         many=True),
    Flag("-p, --publish", "Publish a container's port(s) to the host", metavar="list",
         many=True),
    Flag("-P, --publish-all", "Publish all exposed ports to random ports"),
    Flag("--expose", "Expose a port or a range of ports", metavar="list", many=True),
    Flag("--entrypoint", "Overwrite the default ENTRYPOINT of the image", metavar="string"),
    Flag("--security-opt", "Security Options", metavar="list", many=True),
    Flag("--dns", "Set custom DNS servers", metavar="list", many=True),
    Flag("--dns-search", "Set custom DNS search domains", metavar="list", many=True),
    Flag("--dns-option", "Set DNS options", metavar="list", many=True),
    Flag("--add-host", "Add a custom host-to-IP mapping (host:ip)", metavar="list", many=True),
    Flag("--domainname", "Container NIS domain name", metavar="string"),
    Flag("--restart", 'Restart policy to apply when a container exits (default "no")',
         metavar="string"),
    Flag("--runtime", "Runtime to use for this container", metavar="string"),
    Flag("--log-driver", "Logging driver for the container", metavar="string"),
    Flag("--log-opt", "Log driver options", metavar="list", many=True),
    Flag("--mac-address", "Container MAC address (e.g., 92:d0:c6:0a:29:33)",
         metavar="string"),
    Flag("--device", "Add a host device to the container", metavar="list", many=True,
         convert=lambda text: device_mapping(validate_device(text))),
    Flag("--device-cgroup-rule", "Add a rule to the cgroup allowed devices list",
         metavar="list", many=True, convert=lambda text: device_cgroup_rule(text)),
    # Confinement: what root in the container may do (see confinement_flags below).
    Flag("--cap-add", "Add Linux capabilities", metavar="list", many=True),
    Flag("--cap-drop", "Drop Linux capabilities", metavar="list", many=True),
    Flag("--privileged", "Give extended privileges to this container"),
    Flag("--read-only", "Mount the container's root filesystem as read only"),
    Flag("--ulimit", "Ulimit options", metavar="ulimit", many=True, convert=lambda t: ulimit(t)),
    Flag("--group-add", "Add additional groups to join", metavar="list", many=True),
    Flag("--sysctl", "Sysctl options", metavar="map", many=True, convert=lambda t: sysctl(t)),
    Flag("--oom-kill-disable", "Disable OOM Killer"),
    Flag("--oom-score-adj", "Tune host's OOM preferences (-1000 to 1000)", metavar="int",
         convert=integer),
    Flag("--rm", "Automatically remove the container and its associated anonymous volumes "
         "when it exits"),
    # Namespaces, memory filesystems, init, cpusets and the cgroup parent.
    Flag("--pid", "PID namespace to use", metavar="string"),
    Flag("--ipc", "IPC mode to use", metavar="string"),
    Flag("--uts", "UTS namespace to use", metavar="string"),
    Flag("--cgroupns", "Cgroup namespace to use (host|private)", metavar="string"),
    Flag("--shm-size", "Size of /dev/shm", metavar="bytes", convert=ram_in_bytes),
    Flag("--tmpfs", "Mount a tmpfs directory", metavar="list", many=True),
    # Binds and volumes (shared/client/mounts.py)
    Flag("-v, --volume", "Bind mount a volume", metavar="list", many=True),
    Flag("--mount", "Attach a filesystem mount to the container", metavar="mount",
         many=True),
    Flag("--volumes-from", "Mount volumes from the specified container(s)", metavar="list",
         many=True),
    Flag("--init", "Run an init inside the container that forwards signals and reaps "
         "processes"),
    Flag("--cpuset-cpus", "CPUs in which to allow execution (0-3, 0,1)", metavar="string"),
    Flag("--cpuset-mems", "MEMs in which to allow execution (0-3, 0,1)", metavar="string"),
    # Health checks (docker's cli/command/container/opts.go): durations as Go's
    Flag("--health-cmd", "Command to run to check health", metavar="string"),
    Flag("--health-interval", "Time between running the check (ms|s|m|h) (default 0s)",
         metavar="duration", convert=goduration.parse),
    Flag("--health-retries", "Consecutive failures needed to report unhealthy", metavar="int",
         convert=integer),
    Flag("--health-timeout", "Maximum time to allow one check to run (ms|s|m|h) (default 0s)",
         metavar="duration", convert=goduration.parse),
    Flag("--health-start-period", "Start period for the container to initialize before "
         "starting health-retries countdown (ms|s|m|h) (default 0s)", metavar="duration",
         convert=goduration.parse),
    Flag("--health-start-interval", "Time between running the check during the start "
         "period (ms|s|m|h) (default 0s)", metavar="duration", convert=goduration.parse),
    Flag("--no-healthcheck", "Disable any container-specified HEALTHCHECK"),
    Flag("--cgroup-parent", "Optional parent cgroup for the container", metavar="string"),
]


def unsigned(text: str, bits: int) -> int:
    """Go's strconv.ParseUint, as pflag reads a uint16 flag."""
    if not text.isdigit():
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) >= 1 << bits:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return int(text)


def throttle_device(text: str, *, bytes_rate: bool) -> dict:
    """`/dev/sda:1mb` -> {"Path": "/dev/sda", "Rate": 1048576}, as docker's CLI
    (opts.ValidateThrottleBpsDevice / ValidateThrottleIOpsDevice); the daemon finds
    the disk's numbers from the path."""
    path, sep, value = text.partition(":")
    if not sep or not path:
        raise ValueError(f"bad format: {text}")
    if not path.startswith("/dev/"):
        raise ValueError(f"bad format for device path: {text}")
    if bytes_rate:
        problem = (f"invalid rate for device: {text}. The correct format is "
                   "<device-path>:<number>[<unit>]. Number must be a positive integer. "
                   "Unit is optional and can be kb, mb, or gb")
        try:
            rate = ram_in_bytes(value)
        except ValueError:
            raise ValueError(problem) from None
    else:
        problem = (f"invalid rate for device: {text}. The correct format is "
                   "<device-path>:<number>. Number must be a positive integer")
        if not value.isdigit():
            raise ValueError(problem)
        rate = int(value)
    if rate < 0:
        raise ValueError(problem)
    return {"Path": path, "Rate": rate}
def valid_device_mode(mode: str) -> bool:
    """r, w and m, each at most once (docker's validDeviceMode)."""
    return bool(mode) and set(mode) <= set("rwm") and len(set(mode)) == len(mode)


def validate_device(text: str) -> str:
    """`--device` checked and cleaned as docker's CLI (opts validateLinuxPath):
    SRC[:DST][:MODE], the path in the container absolute."""
    parts = text.split(":", 2)
    if text.count(":") > 2 or not parts[0]:
        raise ValueError(f"bad format for path: {text}")
    mode = ""
    if len(parts) == 1:
        container_path = text
        text = posixpath.normpath(text)
    elif len(parts) == 2 and valid_device_mode(parts[1]):
        container_path, mode = parts
        text = f"{posixpath.normpath(container_path)}:{mode}"
    elif len(parts) == 2:
        container_path = parts[1]
        text = f"{parts[0]}:{posixpath.normpath(container_path)}"
    else:
        container_path, mode = parts[1], parts[2]
        if not valid_device_mode(mode):
            raise ValueError(f"bad mode specified: {mode}")
    if not container_path.startswith("/"):
        raise ValueError(f"{container_path} is not an absolute path")
    return text


def device_mapping(text: str) -> dict:
    """A checked `--device` as HostConfig.Devices' entry (docker's parseLinuxDevice):
    the path in the container defaults to the host's, the permissions to rwm."""
    parts = text.split(":", 2)
    source, target, permissions = parts[0], "", "rwm"
    if len(parts) == 3:
        target, permissions = parts[1], parts[2]
    elif len(parts) == 2:
        if valid_device_mode(parts[1]):
            permissions = parts[1]
        else:
            target = parts[1]
    return {"PathOnHost": source, "PathInContainer": target or source,
            "CgroupPermissions": permissions}


def device_cgroup_rule(text: str) -> str:
    """docker's opts.ValidateDeviceCgroupRule: "type major:minor access"."""
    if not re.fullmatch(r"[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}", text):
        raise ValueError(f"invalid device cgroup format '{text}'")
    return text


def environment(entries: list[str]) -> list[str]:
    """`-e FOO=1` passes as is; `-e FOO` takes FOO's value from our environment
    (and stays a bare name, which unsets it, when we have none), as docker does."""
    result = []
    for entry in entries:
        if "=" not in entry and entry in os.environ:
            entry = f"{entry}={os.environ[entry]}"
        result.append(entry)
    return result


class BadOption(ValueError):
    """A flag value docker's CLI itself refuses (the text is docker's)."""


def env_file(path: str) -> list[str]:
    """One `--env-file`, read as the docker CLI's opts.ParseEnvFile reads it: a UTF-8
    BOM dropped, lines trimmed on the left, blank lines and `#` comments skipped,
    `NAME=value` kept as it is (the value untrimmed), a bare `NAME` taken from our
    environment, or dropped when we have none (unlike `-e NAME`, sent bare)."""
    try:
        with open(path, "rb") as f:
            raw_lines = f.read().split(b"\n")
    except OSError as e:
        raise BadOption(f"open {path}: {(e.strerror or str(e)).lower()}") from None
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    entries = []
    for number, raw in enumerate(raw_lines, 1):
        raw = raw.removesuffix(b"\r")  # bufio.ScanLines drops a CR before the LF
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            raise BadOption(f"invalid env file ({path}): invalid utf8 bytes at line "
                            f"{number}: [{' '.join(str(b) for b in raw)}]") from None
        if number == 1:
            text = text.removeprefix("\ufeff")
        line = text.lstrip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.lstrip(" \t")
        if any(c in name for c in " \t\n\v\f\r"):
            raise BadOption(f"invalid env file ({path}): variable '{name}' contains "
                            "whitespaces")
        if not name:
            raise BadOption(f"invalid env file ({path}): no variable name on line '{line}'")
        if sep:
            entries.append(f"{name}={value}")
        elif name in os.environ:
            entries.append(f"{name.strip()}={os.environ[name]}")
    return entries


def security_options(entries: list[str]) -> list[str]:
    """`--security-opt` as docker's CLI sends it: `seccomp=FILE` becomes the file's
    content (compact JSON), read here, on the client's machine, since the daemon may
    run on another; `seccomp=unconfined` and `=builtin` name the daemon's own."""
    result = []
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep and key != "no-new-privileges":
            key, sep, value = entry.partition(":")
        if (not sep or not value) and key != "no-new-privileges":
            raise BadOption(f'Invalid --security-opt: "{entry}"')
        if key == "seccomp" and value not in ("builtin", "unconfined"):
            try:
                with open(value, "rb") as f:
                    text = f.read()
            except OSError as e:
                raise BadOption(f"opening seccomp profile ({value}) failed: {e}") from None
            try:
                profile = json.loads(text)
            except ValueError as e:
                raise BadOption(
                    f"compacting json for seccomp profile ({value}) failed: {e}") from None
            entry = "seccomp=" + json.dumps(profile, separators=(",", ":"))
        result.append(entry)
    return result


# --ulimit names, as docker's CLI knows them (go-units' ulimitNameMapping)
ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")


def ulimit(text: str) -> dict:
    """`nofile=1024[:2048]` -> {"Name", "Soft", "Hard"} (go-units' ParseUlimit, its
    words); the hard limit is the soft one when not given; -1 is unlimited."""
    name, sep, values = text.partition("=")
    if not sep:
        raise ValueError(f"invalid ulimit argument: {text}")
    if name not in ULIMIT_NAMES:
        raise ValueError(f"invalid ulimit type: {name}")
    parts = values.split(":")
    if len(parts) > 2:
        raise ValueError(f"too many limit value arguments - {values}, can only have up "
                         "to two, `soft[:hard]`")
    numbers = []
    for part in parts:
        try:
            numbers.append(int(part))
        except ValueError:
            raise ValueError(f'strconv.ParseInt: parsing "{part}": invalid syntax') from None
    soft, hard = numbers[0], numbers[-1]
    from shared.oci import confinement  # only with --ulimit: ~0.7 ms of every `./run`

    confinement.check_ulimit_order(soft, hard)  # a ValueError
    return {"Name": name, "Soft": soft, "Hard": hard}


# What docker's CLI lets --sysctl name (its opts.ValidateSysctl); the daemon decides
# the rest (a net.* with --network host, say).
CLIENT_SYSCTLS = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                  "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced")


def sysctl(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not (key in CLIENT_SYSCTLS or key.startswith(("net.", "fs.mqueue."))):
        raise ValueError(f"sysctl '{text}' is not allowed")
    return key, value


def confinement_flags(options: dict[str, Any], host_config: dict[str, Any]) -> None:
    """The confinement flags into HostConfig, as docker's CLI sends them."""
    for key, flag in (("CapAdd", "cap_add"), ("CapDrop", "cap_drop"),
                      ("GroupAdd", "group_add"), ("Ulimits", "ulimit")):
        if options[flag]:
            host_config[key] = list(options[flag])
    if options["sysctl"]:
        host_config["Sysctls"] = dict(options["sysctl"])
    for key, flag in (("Privileged", "privileged"), ("ReadonlyRootfs", "read_only"),
                      ("OomKillDisable", "oom_kill_disable")):
        if options[flag]:
            host_config[key] = True
    if options["oom_score_adj"]:
        host_config["OomScoreAdj"] = options["oom_score_adj"]


HEALTH_FLAGS = (("Interval", "health_interval"), ("Timeout", "health_timeout"),
                ("StartPeriod", "health_start_period"),
                ("StartInterval", "health_start_interval"), ("Retries", "health_retries"))


def healthcheck(options: dict[str, Any]) -> dict | None:
    """Config.Healthcheck from the --health-* flags, as docker's CLI builds it: a
    command is run by the shell (CMD-SHELL); --no-healthcheck is Test ["NONE"], which
    turns off the image's HEALTHCHECK. Durations in nanoseconds."""
    given = bool(options["health_cmd"]) or any(options[f] for _, f in HEALTH_FLAGS)
    if options["no_healthcheck"]:
        if given:
            raise BadOption("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    if not given:
        return None
    for key, flag in (("interval", "health_interval"), ("timeout", "health_timeout"),
                      ("retries", "health_retries"), ("start-period", "health_start_period"),
                      ("start-interval", "health_start_interval")):
        if (options[flag] or 0) < 0:
            raise BadOption(f"--health-{key} cannot be negative")
    config: dict[str, Any] = {
        "Test": ["CMD-SHELL", options["health_cmd"]] if options["health_cmd"] else None}
    for key, flag in HEALTH_FLAGS:
        config[key] = options[flag] or 0
    return config


def restart_policy(value: str) -> dict:
    """`--restart NAME[:MAX-RETRIES]` (docker's opts.ParseRestartPolicy)."""
    name, sep, retries = value.partition(":")
    if sep and name != "on-failure":
        raise BadOption(f"invalid restart policy format: maximum retry count can only be "
                        f"used with 'on-failure': {value}")
    try:
        count = int(retries) if sep else 0
    except ValueError:
        raise BadOption(f"invalid restart policy format: maximum retry count must be an "
                        f"integer: {value}") from None
    return {"Name": name, "MaximumRetryCount": count}


def _container_mode(mode: str) -> bool:
    kind, sep, name = mode.partition(":")
    return kind == "container" and bool(sep) and bool(name)


def sharing_options(options: dict[str, Any]) -> dict[str, Any]:
    """--pid, --ipc, --uts, --cgroupns, --shm-size, --tmpfs, --init, --cpuset-*,
    --cgroup-parent as HostConfig fields, the modes checked as docker's CLI checks
    them (its words), before anything is sent."""
    pid, ipc = options["pid"] or "", options["ipc"] or ""
    uts, cgroupns = options["uts"] or "", options["cgroupns"] or ""
    if pid not in ("", "host") and not _container_mode(pid):
        raise BadOption("--pid: invalid PID mode")
    if ipc not in ("", "host", "private", "shareable", "none") and not _container_mode(ipc):
        raise BadOption("--ipc: invalid IPC mode")
    if uts not in ("", "host"):
        raise BadOption("--uts: invalid UTS mode")
    if cgroupns not in ("", "host", "private"):
        raise BadOption("--cgroupns: invalid CGROUP mode")
    fields: dict[str, Any] = {"PidMode": pid, "IpcMode": ipc, "UTSMode": uts,
                              "CgroupnsMode": cgroupns,
                              "CpusetCpus": options["cpuset_cpus"] or "",
                              "CpusetMems": options["cpuset_mems"] or "",
                              "CgroupParent": options["cgroup_parent"] or ""}
    fields = {key: value for key, value in fields.items() if value}  # unset: not sent
    if options["shm_size"] is not None:
        fields["ShmSize"] = options["shm_size"]
    if options["tmpfs"]:
        # "/run:size=64m,mode=1777" -> {"/run": "size=64m,mode=1777"}; no options: ""
        fields["Tmpfs"] = dict(entry.partition(":")[::2] for entry in options["tmpfs"])
    if options["init"]:
        fields["Init"] = True
    return fields


def build(options: dict[str, Any], image: str, command: list[str], *, attach: bool) -> dict:
    """The create body. `attach` is false for `run -d` and `create`: nobody will read
    the output live, and a daemon knows not to keep stdin open for a reader.

    Raises PortSpecError for a -p or --expose value docker would refuse, BadOption
    for a --security-opt."""
    interactive = options["interactive"]
    exposed, bindings = portspecs.ports_config(options["publish"], options["expose"])
    network = options["network"] or "default"
    host_config: dict[str, Any] = {
        "AutoRemove": options["rm"],
        "NetworkMode": network,
        "PortBindings": bindings,
        "PublishAllPorts": options["publish_all"],  # the daemon picks a port for each exposed one
    }
    for key, flag in (("Memory", "memory"), ("NanoCpus", "cpus"), ("CpuShares", "cpu_shares"),
                      ("PidsLimit", "pids_limit")):
        if options[flag] is not None:
            host_config[key] = options[flag]
    for key, flag in (("MemoryReservation", "memory_reservation"),
                      ("MemorySwap", "memory_swap"), ("MemorySwappiness", "memory_swappiness"),
                      ("BlkioWeight", "blkio_weight"), ("CpuPeriod", "cpu_period"),
                      ("CpuQuota", "cpu_quota"), ("BlkioDeviceReadBps", "device_read_bps"),
                      ("BlkioDeviceWriteBps", "device_write_bps"),
                      ("BlkioDeviceReadIOps", "device_read_iops"),
                      ("BlkioDeviceWriteIOps", "device_write_iops")):
        if options[flag] not in (None, []):
            host_config[key] = options[flag]
    if options["device"]:
        host_config["Devices"] = options["device"]
    if options["device_cgroup_rule"]:
        host_config["DeviceCgroupRules"] = options["device_cgroup_rule"]
    if options["security_opt"]:
        opts = security_options(options["security_opt"])
        if "systempaths=unconfined" in opts:
            # docker's CLI sends this one as empty lists, not as an option (the
            # daemon's parseSecurityOpt does not know it)
            opts = [o for o in opts if o != "systempaths=unconfined"]
            host_config["MaskedPaths"], host_config["ReadonlyPaths"] = [], []
        if opts:
            host_config["SecurityOpt"] = opts
    for key, flag in (("Dns", "dns"), ("DnsSearch", "dns_search"),
                      ("DnsOptions", "dns_option")):
        if options[flag]:
            host_config[key] = list(options[flag])
    if options["add_host"]:
        # `name=ip` is the newer spelling; the API takes `name:ip` (docker's CLI converts).
        host_config["ExtraHosts"] = [h.replace("=", ":", 1) if "=" in h else h
                                     for h in options["add_host"]]
    if options["restart"]:
        host_config["RestartPolicy"] = restart_policy(options["restart"])
    if options["runtime"]:
        host_config["Runtime"] = options["runtime"]
    if options["log_driver"] or options["log_opt"]:
        host_config["LogConfig"] = log_config(options["log_driver"] or "", options["log_opt"])
    host_config.update(sharing_options(options))
    confinement_flags(options, host_config)
    entrypoint = options["entrypoint"]
    body: dict[str, Any] = {}
    try:
        mounts.apply(options, body, host_config)
    except mounts.MountOptionError as e:
        raise BadOption(f'invalid argument for "--mount" flag: {e}') from None
    health = healthcheck(options)
    if health is not None:
        body["Healthcheck"] = health
    return {**body,
        "Hostname": options["hostname"] or "",
        "Domainname": options["domainname"] or "",
        "User": options["user"] or "",
        "AttachStdin": attach and interactive,
        "AttachStdout": attach,
        "AttachStderr": attach,
        "Tty": options["tty"],
        "OpenStdin": interactive,
        "StdinOnce": attach and interactive,  # close stdin when the attached client leaves
        # as the docker CLI: the files' entries first, then -e's
        # the container-wide field too, for daemons before API 1.44 (which move it to
        # the network's endpoint; later ones check that the two agree)
        "MacAddress": mac_address(options["mac_address"]) if options["mac_address"] else "",
        "Env": [entry for path in options["env_file"] for entry in env_file(path)]
        + environment(options["env"]),
        "Cmd": command or None,  # None: the image's CMD
        "Image": image,
        "WorkingDir": options["workdir"] or "",
        "Entrypoint": None if entrypoint is None else [entrypoint],
        "ExposedPorts": exposed,
        "HostConfig": host_config,
        "NetworkingConfig": {"EndpointsConfig": endpoints(network, options["network_alias"],
                                                          options["mac_address"] or "")},
    }


def log_config(driver: str, entries: list[str]) -> dict:
    """`--log-driver` and `--log-opt KEY=VALUE` (docker's parseLoggingOpts: a KEY
    alone is an empty value; options for none are refused here, before the daemon)."""
    if driver == "none" and entries:
        raise BadOption("invalid logging opts for driver none")
    config = {}
    for entry in entries:
        key, _, value = entry.partition("=")
        config[key] = value
    return {"Type": driver, "Config": config}


def mac_address(text: str) -> str:
    """`--mac-address`, checked as the docker CLI checks it (Go's net.ParseMAC, for the
    6-byte forms: aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff)."""
    from shared.network.macaddr import parse_mac

    try:
        parse_mac(text.strip())
    except ValueError:
        raise BadOption(f"{text} is not a valid mac address") from None
    return text


def endpoints(network: str, aliases: list[str], mac: str = "") -> dict:
    """NetworkingConfig.EndpointsConfig: `--network-alias` names belong to the network
    the container starts on (other containers there resolve them by DNS), so the
    settings are keyed by that network, as the docker CLI sends them; so is
    `--mac-address` since API 1.44 (the address of the container's end there)."""
    settings: dict[str, Any] = {}
    if aliases:
        settings["Aliases"] = list(aliases)
    if mac:
        settings["MacAddress"] = mac_address(mac)
    return {network: settings} if settings else {}


def with_latest(image: str) -> str:
    """`busybox` -> `busybox:latest`, as docker names an image reference it lacks."""
    if "@" in image or ":" in image.rpartition("/")[2]:
        return image
    return image + ":latest"


def create(client: Client, name: str | None, body: dict) -> str:
    """POST /containers/create; print the daemon's warnings; return the new Id."""
    created = client.request("POST", "/containers/create", query={"name": name}, body=body)
    for warning in created.get("Warnings") or []:
        print(f"WARNING: {warning}", file=sys.stderr)
    return created["Id"]


def create_or_pull(client: Client, name: str | None, body: dict, image: str) -> str:
    """Create; when the image is missing, pull it and create again, as `docker run`
    does (printing the pull's progress on stderr). Raises APIError if that fails too."""
    from shared.client.api import APIError

    try:
        return create(client, name, body)
    except APIError as error:
        if not (error.status == 404 and "image" in error.message.lower()):
            raise
        print(f"Unable to find image '{with_latest(image)}' locally", file=sys.stderr)
        from shared.client.commands.pull import pull_image

        if pull_image(client, image, out=sys.stderr) != 0:
            raise PullFailed() from None
        return create(client, name, body)


class PullFailed(Exception):
    """The pull said why it failed already (on stderr)."""


def report_bad_config(program: str, verb: str, error: Exception) -> int:
    """A command line docker's CLI itself refuses (a bad -p): said as docker says it,
    exit 125, and nothing was sent to the daemon."""
    print(f"{program}: {error}\n\nRun '{program} {verb} --help' for more information",
          file=sys.stderr)
    return 125


def report_create_error(program: str, verb: str, image: str, error: APIError) -> int:
    """Print a refused create as `docker run` does; exit status 125."""
    print(
        f"{program}: Error response from daemon: {error.message}\n\n"
        f"Run '{program} {verb} --help' for more information",
        file=sys.stderr,
    )
    return 125
