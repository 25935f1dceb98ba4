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
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.daemon.lifecycle import parse_signal
from shared.errors import InvalidParameter, NotFound
from shared.network import portmap
from shared.oci import runtime_spec
from shared.oci.lookpath import DEFAULT_PATH
from shared.oci.runtime_spec import SpecError, merge_env

RESTART_POLICIES = ("", "no", "always", "unless-stopped", "on-failure")
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
) -> ContainerConfig:
    """The create request `body` merged with the image's config; 400 if it cannot run.

    `network_mode` resolves a network name or id to the name the record keeps (404 for
    an unknown one); None where the daemon has no bridge networking (unit tests), which
    knows only the built-in modes.
    """
    if not isinstance(body, dict):
        raise InvalidParameter("invalid JSON: the body must be an object")
    body = check_types(body)
    check_hostname(body.get("Hostname") or "")
    host_config = dict(body.get("HostConfig") or {})
    try:
        runtime_spec.resources(host_config)
        runtime_spec.no_new_privileges(host_config.get("SecurityOpt") or [])
    except SpecError as e:
        raise InvalidParameter(str(e)) from None
    args = command(body, image_config)
    if not args:
        raise InvalidParameter("No command specified")
    policy = (host_config.get("RestartPolicy") or {}).get("Name") or ""
    if policy not in RESTART_POLICIES:
        raise InvalidParameter(f"invalid restart policy '{policy}'")
    mode, networks = _networks(body, host_config, network_mode)
    if mode in ("none", "host") and host_config.get("PortBindings"):
        host_config["PortBindings"] = {}  # Docker ignores them too
    portmap.parse_bindings(host_config.get("PortBindings"))  # 400 if malformed
    host_config["NetworkMode"] = mode
    if not (host_config.get("LogConfig") or {}).get("Type"):
        host_config["LogConfig"] = {"Type": "json-file", "Config": {}}

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
    if body.get("StopTimeout") is not None:
        config["StopTimeout"] = body["StopTimeout"]
    exposed = {**(image_config.get("ExposedPorts") or {}), **(body.get("ExposedPorts") or {})}
    for key in host_config.get("PortBindings") or {}:
        exposed.setdefault(key, {})
    if exposed:
        config["ExposedPorts"] = exposed
    return ContainerConfig(config=config, host_config=host_config, path=args[0],
                           args=args[1:], networks=networks)


# The create request's fields and the JSON types Go's decoder would accept for them
# (dockerd answers anything else with a 400 before it looks further).
_STRINGS = ("Hostname", "Domainname", "User", "WorkingDir", "Image", "StopSignal")
_BOOLS = ("AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce",
          "NetworkDisabled")
_OBJECTS = ("HostConfig", "NetworkingConfig", "ExposedPorts", "Labels", "Volumes")
_STRING_LISTS = ("Env", "Cmd", "Entrypoint")
_STRSLICES = ("Cmd", "Entrypoint")  # strslice: a string is a list of one


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def check_types(body: dict) -> dict:
    """The body with each key of the type dockerd decodes it into; 400 otherwise.

    A string Cmd or Entrypoint is one word, as Docker's strslice reads it: nothing
    is split. NaN and infinities (which Python's json accepts and Go's refuses) are no
    number. A StopSignal or StopTimeout that `docker stop` could not use is refused now,
    not when the container is stopped."""
    def bad(key: str, want: str) -> InvalidParameter:
        got = _json_type(body[key])
        return InvalidParameter(f"invalid JSON: cannot unmarshal {got} into {key} of type {want}")

    checked = dict(body)
    for key in _STRINGS:
        if body.get(key) is not None and not isinstance(body[key], str):
            raise bad(key, "string")
    for key in _BOOLS:
        if body.get(key) is not None and not isinstance(body[key], bool):
            raise bad(key, "bool")
    for key in _OBJECTS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise bad(key, "object")
    for key in _STRING_LISTS:
        value = body.get(key)
        if isinstance(value, str) and key in _STRSLICES:
            checked[key] = [value]
        elif value is not None and not (isinstance(value, list)
                                        and all(isinstance(v, str) for v in value)):
            raise bad(key, "[]string")
    for label, value in (body.get("Labels") or {}).items():
        if not isinstance(value, str):
            raise InvalidParameter(
                f"invalid JSON: cannot unmarshal {_json_type(value)} into Labels[{label}] "
                "of type string")
    timeout = body.get("StopTimeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)):
        raise bad("StopTimeout", "int")
    if body.get("StopSignal"):
        parse_signal(body["StopSignal"])  # dockerd's "Invalid signal: X"
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


def check_hostname(hostname: str) -> None:
    """dockerd's one rule for a hostname (29.7, daemon_unix.go verifyPlatformContainerSettings):
    at most HOST_NAME_MAX bytes, refused at create rather than failing every start. Any
    other byte is allowed, as there; stage 1's config refuses what it cannot hold."""
    if len(hostname.encode()) > HOST_NAME_MAX:
        raise InvalidParameter(f"hostname {json.dumps(hostname)} is too long "
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
