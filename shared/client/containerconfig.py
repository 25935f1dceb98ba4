"""From `run`/`create` flags to the JSON body of `POST /containers/create`.

The body is Docker's container Config (what runs: image, command, environment,
user, TTY...) with two nested objects: HostConfig (how the host confines it:
memory, CPU, pids, network, auto-remove) and NetworkingConfig.
"""

from __future__ import annotations

import json
import os
import sys

from shared.client import portspecs
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
    Flag("-w, --workdir", "Working directory inside the container", metavar="string"),
    Flag("-u, --user", "Username or UID (format: <name|uid>[:<group|gid>])", metavar="string"),
    Flag("-h, --hostname", "Container host name", metavar="string"),
    Flag("-m, --memory", "Memory limit", metavar="bytes", convert=ram_in_bytes),
    Flag("--pids-limit", "Tune container pids limit (set -1 for unlimited)", metavar="int",
         convert=integer),
    Flag("--cpus", "Number of CPUs", metavar="decimal", convert=nano_cpus),
    Flag("-c, --cpu-shares", "CPU shares (relative weight)", metavar="int", convert=integer),
    Flag("--network", "Connect a container to a network", metavar="network"),
    Flag("--network-alias", "Add network-scoped alias for the container", metavar="list",
         many=True),
    Flag("-p, --publish", "Publish a container's port(s) to the host", metavar="list",
         many=True),
    Flag("-P, --publish-all", "Publish all exposed ports to random ports"),
    Flag("--expose", "Expose a port or a range of ports", metavar="list", many=True),
    Flag("--entrypoint", "Overwrite the default ENTRYPOINT of the image", metavar="string"),
    Flag("--security-opt", "Security Options", metavar="list", many=True),
    Flag("--rm", "Automatically remove the container and its associated anonymous volumes "
         "when it exits"),
    # Namespaces, memory filesystems, init, cpusets and the cgroup parent.
    Flag("--pid", "PID namespace to use", metavar="string"),
    Flag("--ipc", "IPC mode to use", metavar="string"),
    Flag("--uts", "UTS namespace to use", metavar="string"),
    Flag("--cgroupns", "Cgroup namespace to use (host|private)", metavar="string"),
    Flag("--shm-size", "Size of /dev/shm", metavar="bytes", convert=ram_in_bytes),
    Flag("--tmpfs", "Mount a tmpfs directory", metavar="list", many=True),
    Flag("--init", "Run an init inside the container that forwards signals and reaps "
         "processes"),
    Flag("--cpuset-cpus", "CPUs in which to allow execution (0-3, 0,1)", metavar="string"),
    Flag("--cpuset-mems", "MEMs in which to allow execution (0-3, 0,1)", metavar="string"),
    Flag("--cgroup-parent", "Optional parent cgroup for the container", metavar="string"),
]


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
    if options["security_opt"]:
        host_config["SecurityOpt"] = security_options(options["security_opt"])
    host_config.update(sharing_options(options))
    entrypoint = options["entrypoint"]
    return {
        "Hostname": options["hostname"] or "",
        "User": options["user"] or "",
        "AttachStdin": attach and interactive,
        "AttachStdout": attach,
        "AttachStderr": attach,
        "Tty": options["tty"],
        "OpenStdin": interactive,
        "StdinOnce": attach and interactive,  # close stdin when the attached client leaves
        "Env": environment(options["env"]),
        "Cmd": command or None,  # None: the image's CMD
        "Image": image,
        "WorkingDir": options["workdir"] or "",
        "Entrypoint": None if entrypoint is None else [entrypoint],
        "ExposedPorts": exposed,
        "HostConfig": host_config,
        "NetworkingConfig": {"EndpointsConfig": endpoints(network, options["network_alias"])},
    }


def endpoints(network: str, aliases: list[str]) -> dict:
    """NetworkingConfig.EndpointsConfig: `--network-alias` names belong to the network
    the container starts on (other containers there resolve them by DNS), so the
    settings are keyed by that network, as the docker CLI sends them."""
    if not aliases:
        return {}
    return {network: {"Aliases": list(aliases)}}


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
