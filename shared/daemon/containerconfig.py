"""From `docker create`'s request to a container's config: Docker's merge rules.

A create request (the Engine API's Config, HostConfig and NetworkingConfig) says only
what the user typed; the image's config says the rest. This module merges the two,
once, into what the container record keeps and `docker inspect` shows, and refuses
what cannot be a container, before anything exists. It is pure: no root, no files, no
daemon; the network names are resolved by a function the caller passes in.

The rules are dockerd's (daemon/create.go, runconfig, container merge). Later, at each
start, the runtime spec is built from the merged config as it stands (runtime_spec.py):
nothing is merged twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.daemon import createfields, etcfiles, gotypes, health, logdrivers, restartpolicy
from shared.daemon.lifecycle import parse_signal
from shared.errors import InvalidParameter, NotFound
from shared.network import macaddr, portmap
from shared.oci import confinement, namespace_modes, runtime_spec
from shared.oci import resources as oci_resources
from shared.oci.lookpath import DEFAULT_PATH
from shared.oci.runtime_spec import SpecError, merge_env

BUILTIN_NETWORKS = ("default", "bridge", "none", "host")


@dataclass
class ContainerConfig:
    """What a container record keeps of its create request, merged with its image.

    config / host_config: Docker's Config and HostConfig, as `docker inspect` shows them.
    networks: the networks to join at each start, name -> endpoint settings.
    path, args: the process to run (Entrypoint + Cmd, merged).
    """

    config: dict
    host_config: dict
    path: str
    args: list[str]
    networks: dict[str, dict] = field(default_factory=dict)


def command(config: dict, image_config: dict) -> list[str]:
    """Entrypoint + Cmd as Docker merges them.

    An entrypoint given at create replaces the image's and, with it, the image's Cmd:
    `docker run --entrypoint ls busybox` runs `ls`, not `ls sh`. Without one, the image's
    entrypoint stays and the create's Cmd, if any, replaces the image's.
    """
    entrypoint = config.get("Entrypoint")
    cmd = config.get("Cmd") or []
    if entrypoint is not None and entrypoint != [""]:
        return list(entrypoint) + list(cmd)
    if entrypoint == [""]:  # `--entrypoint ""` clears the image's entrypoint
        return list(cmd or image_config.get("Cmd") or [])
    image_entrypoint = image_config.get("Entrypoint") or []
    return list(image_entrypoint) + list(cmd or image_config.get("Cmd") or [])


def with_path(env: list[str]) -> list[str]:
    """A container whose image sets no PATH gets the usual one."""
    if any(e.startswith("PATH=") for e in env):
        return env
    return [*env, f"PATH={DEFAULT_PATH}"]


def stop_signal(config: dict, image_config: dict) -> str:
    return config.get("StopSignal") or image_config.get("StopSignal") or "SIGTERM"


def merge(
    body: object,
    image_ref: str,
    image_config: dict,
    network_mode: Callable[[str], str] | None,
    runtime: str = "runc",
) -> ContainerConfig:
    """The create request `body` merged with the image's config; 400 if it cannot run.

    `network_mode` resolves a network name or id to the name the record keeps (404 for
    an unknown one); None where the daemon has no bridge networking (unit tests), which
    knows only the built-in modes. `runtime`: the engine's one runtime, by name.
    """
    if not isinstance(body, dict):
        raise InvalidParameter("invalid JSON: the body must be an object")
    body = check_types(body)
    restartpolicy.validate(body.get("HostConfig") or {})
    health.validate(body.get("Healthcheck"))
    createfields.refuse_unsupported(body, runtime)
    check_hostname(body.get("Hostname") or "")
    check_hostname(body.get("Domainname") or "", "domainname")
    etcfiles.check_options(body.get("HostConfig") or {})
    host_config = dict(body.get("HostConfig") or {})
    if body.get("NetworkDisabled"):
        host_config["NetworkMode"] = "none"  # dockerd, too, makes it no network at all
    try:
        runtime_spec.resources(host_config)
        oci_resources.default_memory_swap(host_config)  # after: a 400 keeps the user's words
        confinement.validate(host_config)
        runtime_spec.check_host_options(body, host_config)
    except (SpecError, confinement.ConfinementError) as e:
        raise InvalidParameter(str(e)) from None
    args = command(body, image_config)
    if not args:
        raise InvalidParameter("No command specified")
    mode, networks = _networks(body, host_config, network_mode)
    macaddr.place(body, mode, networks)  # --mac-address, on the mode's endpoint
    if mode in ("none", "host") and host_config.get("PortBindings"):
        host_config["PortBindings"] = {}  # Docker ignores them too
    try:
        portmap.parse_bindings(host_config.get("PortBindings"))  # 400 if malformed
    except ValueError as e:  # a "digit" int() does not take, such as "²"
        raise InvalidParameter(f"invalid port specification: {e}") from None
    host_config["NetworkMode"] = mode
    namespace_modes.fill_defaults(host_config)
    log_config = host_config.get("LogConfig") or {}
    if not log_config.get("Type"):  # the CLI sends --log-opt with no --log-driver so
        host_config["LogConfig"] = {"Type": "json-file", "Config": log_config.get("Config") or {}}

    config = {
        "Hostname": body.get("Hostname") or "",
        "Domainname": body.get("Domainname") or "",
        "User": body.get("User") or image_config.get("User") or "",
        "AttachStdin": bool(body.get("AttachStdin")),
        "AttachStdout": bool(body.get("AttachStdout")),
        "AttachStderr": bool(body.get("AttachStderr")),
        "Tty": bool(body.get("Tty")),
        "OpenStdin": bool(body.get("OpenStdin")),
        "StdinOnce": bool(body.get("StdinOnce")),
        "Env": with_path(merge_env(image_config.get("Env") or [], body.get("Env") or [])),
        "Cmd": body.get("Cmd") or (None if body.get("Entrypoint") else image_config.get("Cmd")),
        "Image": image_ref,
        "WorkingDir": body.get("WorkingDir") or image_config.get("WorkingDir") or "",
        "Entrypoint": body.get("Entrypoint") or image_config.get("Entrypoint"),
        "Labels": {**(image_config.get("Labels") or {}), **(body.get("Labels") or {})},
        "StopSignal": stop_signal(body, image_config),
    }
    volumes = {**(image_config.get("Volumes") or {}), **(body.get("Volumes") or {})}
    if volumes:
        config["Volumes"] = volumes  # the image's VOLUMEs and `-v /path`: shared/volumes
    healthcheck = health.merge(body.get("Healthcheck"), image_config.get("Healthcheck"))
    if healthcheck is not None:
        config["Healthcheck"] = healthcheck  # the image's HEALTHCHECK, or the request's
    if body.get("StopTimeout") is not None:
        config["StopTimeout"] = body["StopTimeout"]
    if body.get("NetworkDisabled"):
        config["NetworkDisabled"] = True
    exposed = {**(image_config.get("ExposedPorts") or {}), **(body.get("ExposedPorts") or {})}
    for key in host_config.get("PortBindings") or {}:
        exposed.setdefault(key, {})
    if exposed:
        config["ExposedPorts"] = exposed
    return ContainerConfig(config=config, host_config=host_config, path=args[0],
                           args=args[1:], networks=networks)


# An exposed port: "80", "80/tcp", "53/udp" (what `docker ps` and inspect can show).
EXPOSED_PORT = re.compile(r"[0-9]{1,5}(/(tcp|udp|sctp))?\Z")

# The longest stop timeout, in seconds: dockerd multiplies it into a Go time.Duration
# (int64 nanoseconds), which a longer one overflows; Python's waits stop at the same
# bound (threading.TIMEOUT_MAX).
MAX_STOP_TIMEOUT = (2**63 - 1) // 1_000_000_000


def check_stop_timeout(timeout: int | None, what: str = "StopTimeout") -> int | None:
    if timeout is not None and abs(timeout) > MAX_STOP_TIMEOUT:
        raise InvalidParameter(f"invalid {what}: {timeout} seconds is more than "
                               f"{MAX_STOP_TIMEOUT} (Go's time.Duration)")
    return timeout


def check_types(body: dict) -> dict:
    """The body with each field of the Go type dockerd decodes it into (gotypes.py:
    Config, HostConfig, NetworkingConfig, down to each item); a 400 otherwise.

    A string Cmd or Entrypoint is one word, as Docker's strslice reads it: nothing
    is split. A StopSignal that `docker stop` could not use is refused now, not when
    the container is stopped; so are log options the json-file driver cannot take."""
    gotypes.check_body(body, gotypes.CREATE_REQUEST)
    checked = dict(body)
    for key in ("Cmd", "Entrypoint"):
        if isinstance(body.get(key), str):
            checked[key] = [body[key]]
    if body.get("StopSignal"):
        parse_signal(body["StopSignal"])  # dockerd's "Invalid signal: X"
    check_stop_timeout(body.get("StopTimeout"))
    for key in body.get("ExposedPorts") or {}:
        if not EXPOSED_PORT.match(key) or not 0 < int(key.partition("/")[0]) <= 65535:
            raise InvalidParameter(f"invalid port specification: {key!r}")
    log_config = (body.get("HostConfig") or {}).get("LogConfig") or {}
    try:
        logdrivers.check(log_config.get("Type") or "", log_config.get("Config") or {})
    except ValueError as e:  # dockerd finds a bad value only at start: we, now
        raise InvalidParameter(str(e)) from None
    return checked


def _networks(
    body: dict, host_config: dict, network_mode: Callable[[str], str] | None
) -> tuple[str, dict[str, dict]]:
    """The NetworkMode the record keeps, and the networks to join with their settings."""
    mode = host_config.get("NetworkMode") or "default"
    if mode.startswith("container:"):
        check_container_mode(body, host_config)
        return mode, {}
    if network_mode is None:
        if mode not in BUILTIN_NETWORKS:
            raise NotFound(f"network {mode} not found")
        return mode, {}
    mode = network_mode(mode)
    if mode in ("none", "host"):
        return mode, {}
    endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    settings: dict = {}
    for key, value in endpoints.items():
        if network_mode(key) == mode:
            settings = value or {}
    return mode, {mode: settings}


HOST_NAME_MAX = 64  # bytes: the kernel's limit for sethostname(2) (linux/limits.h)


def check_hostname(hostname: str, what: str = "hostname") -> None:
    """dockerd's one rule for a hostname (29.7, daemon_unix.go verifyPlatformContainerSettings):
    at most HOST_NAME_MAX bytes, refused at create rather than failing every start. Any
    other byte is allowed, as there; stage 1's config refuses what it cannot hold.
    The kernel holds a domain name to the same length (dockerd lets a longer one fail
    at start; here it is refused with the hostname's words)."""
    if len(hostname.encode()) > HOST_NAME_MAX:
        raise InvalidParameter(f"{what} {json.dumps(hostname)} is too long "
                               f"(maximum {HOST_NAME_MAX} bytes)")


def check_container_mode(body: dict, host_config: dict) -> None:
    """`--network container:NAME` shares NAME's network namespace (Kubernetes' pods are
    made this way: one namespace, held by a "pause" container, joined by the others).
    NAME is looked up at each start, as dockerd does; what cannot go with a borrowed
    network is refused now, with dockerd's words."""
    if host_config.get("PortBindings") or host_config.get("PublishAllPorts"):
        raise InvalidParameter(
            "conflicting options: port publishing and the container type network mode")
    if body.get("Hostname"):
        raise InvalidParameter("conflicting options: hostname and the network mode")
