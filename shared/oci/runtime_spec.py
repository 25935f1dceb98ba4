"""From a container's config to an OCI runtime spec.

Every era consumes the same spec: at each start the daemon translates the container's
config (the Engine API's Config and HostConfig, merged with the image's config once,
at create: shared/daemon/containerconfig.py) into one `config.json`-shaped dict, and
only what happens to that dict differs by era. The rules are Docker's own (moby's
daemon/oci_linux.go).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from shared.oci import devices, seccomp
from shared.oci import resources as oci_resources
from shared.oci.defaults import default_spec

# The network plan for an executor that makes the container's interfaces itself (stage
# 1: LXC). The OCI spec has no field for "a veth on this bridge, with this address";
# annotations are where a runtime and its caller put what they agree on between them.
INTERFACES_ANNOTATION = "org.whalebones.network.interfaces"


class SpecError(ValueError):
    """The request asks for something that cannot be a container (HTTP 400)."""


@dataclass(frozen=True)
class User:
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    home: str = "/"


def merge_env(*layers: list[str]) -> list[str]:
    """`KEY=value` lists merged in order, a later key replacing an earlier one in place.

    Each use is a rule of Docker's: the image's env under the create's (once, at
    create: shared/daemon/containerconfig.py); the daemon's own variables (HOSTNAME,
    TERM) under the container's, at each start; the container's under an exec's.
    `-e NAME` without a value (and no such variable on the client's host, which the
    CLI would have filled in) is dropped, as Docker does.
    """
    merged: dict[str, str] = {}
    for layer in layers:
        for entry in layer:
            key, sep, value = entry.partition("=")
            if sep:
                merged[key] = value
    return [f"{k}={v}" for k, v in merged.items()]


def resources(host_config: dict) -> dict:
    """HostConfig limits -> linux.resources (cgroup settings), validated as Docker does
    (shared/oci/resources.py); SpecError (a 400) names what is refused."""
    try:
        return oci_resources.to_spec(host_config)
    except oci_resources.ResourceError as e:
        raise SpecError(str(e)) from None


def build(
    cid: str,
    args: list[str],
    config: dict,
    host_config: dict,
    rootfs: str,
    user: User,
    cgroup_parent: str = "/whalebones",
    extra_mounts: list[dict] | None = None,
    netns_path: str | None = None,
    interfaces: list[dict] | None = None,
) -> dict:
    """The whole runtime spec for one container's first process.

    `args` and `config` are the container's, already merged with its image at create
    (shared/daemon/containerconfig.py); here they are only translated, and the daemon
    adds what it decides at each start: the user's ids, HOSTNAME, TERM and HOME.
    `netns_path`: a network namespace the daemon made and set up (bridge networking);
    the executor joins it (setns) rather than making an empty one.
    `interfaces`: or, for an executor that makes them itself, the interfaces of the
    new namespace it makes (manager.Endpoint.plan), in INTERFACES_ANNOTATION."""
    if not args:
        raise SpecError("no command specified")
    spec = default_spec()
    tty = bool(config.get("Tty"))
    hostname = config.get("Hostname") or ""
    daemon_env = [f"HOSTNAME={hostname}", *(["TERM=xterm"] if tty else [])]
    env = merge_env(daemon_env, config.get("Env") or [])  # the container's own win
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={user.home}")

    process = spec["process"]
    process["args"] = list(args)
    process["env"] = env
    process["cwd"] = config.get("WorkingDir") or "/"
    process["terminal"] = tty
    process["user"] = {"uid": user.uid, "gid": user.gid}
    if user.additional_gids:
        process["user"]["additionalGids"] = list(user.additional_gids)
    size = host_config.get("ConsoleSize") or [0, 0]
    if tty and size and size[0] and size[1]:
        process["consoleSize"] = {"height": int(size[0]), "width": int(size[1])}

    process["noNewPrivileges"] = no_new_privileges(host_config.get("SecurityOpt") or [])
    spec["mounts"].extend(extra_mounts or [])
    spec["root"] = {"path": rootfs, "readonly": bool(host_config.get("ReadonlyRootfs"))}
    spec["hostname"] = hostname
    if config.get("Domainname"):
        spec["domainname"] = config["Domainname"]  # the UTS namespace's NIS domain name
    linux = spec["linux"]
    # API-only fields (no CLI flag): they replace Docker's lists, as in dockerd.
    if host_config.get("MaskedPaths") is not None:
        linux["maskedPaths"] = list(host_config["MaskedPaths"])
    if host_config.get("ReadonlyPaths") is not None:
        linux["readonlyPaths"] = list(host_config["ReadonlyPaths"])
    linux["cgroupsPath"] = f"{cgroup_parent}/{cid}"
    linux.setdefault("resources", {}).update(resources(host_config))
    devices.apply(spec, host_config)  # --device, --device-cgroup-rule, --privileged's nodes

    network = host_config.get("NetworkMode") or "default"
    if network == "host":
        # The host's network stack and, as Docker does, the host's name with it.
        linux["namespaces"] = [n for n in linux["namespaces"] if n["type"] != "network"]
    elif netns_path:
        for n in linux["namespaces"]:
            if n["type"] == "network":
                n["path"] = netns_path
    spec["annotations"] = {
        **(host_config.get("Annotations") or {}),  # the user's, for the runtime
        "org.opencontainers.image.stopSignal": config.get("StopSignal") or "SIGTERM"}
    if interfaces and network != "host":
        spec["annotations"][INTERFACES_ANNOTATION] = json.dumps(interfaces)
    # Last: which of the profile's rules apply depends on the capabilities the
    # container ends up with (its bounding set), once everything above has set them.
    policy = seccomp_policy(host_config.get("SecurityOpt") or [],
                            process["capabilities"]["bounding"])
    if policy is not None:
        linux["seccomp"] = policy
    return spec


def planned_interfaces(spec: dict) -> list[dict]:
    """The interfaces the spec asks its executor to make (see `build`); [] if none."""
    return json.loads(spec.get("annotations", {}).get(INTERFACES_ANNOTATION) or "[]")


def no_new_privileges(options: list[str]) -> bool:
    """`--security-opt no-new-privileges[:true|false]`; on unless turned off.

    (Docker's default is off; this project's security baseline is on.) `seccomp=` is
    read by `seccomp_policy`. Options for mechanisms this project does not implement
    (apparmor, SELinux labels) are accepted and have no effect, as on a Docker host
    without those modules.
    """
    value = True
    for option in options:
        key, sep, arg = option.replace("=", ":", 1).partition(":")
        if key == "no-new-privileges":
            if sep and arg not in ("true", "false"):
                raise SpecError(f"invalid --security-opt 2: {option!r}")
            value = arg != "false"
        elif key not in ("seccomp", "apparmor", "label", "systempaths"):
            raise SpecError(f'invalid --security-opt 1: "{option}"')
    return value


def seccomp_policy(options: list[str], bounding: list[str]) -> dict | None:
    """`--security-opt seccomp=...` -> the spec's `linux.seccomp`, or None for none.

    Docker's rules (moby's daemon/seccomp_linux.go): no option, or `seccomp=builtin`,
    is the default profile; `seccomp=unconfined` is no filter at all; anything else
    is a profile's JSON text, which the CLI read from the file named on its command
    line. The last `seccomp=` given wins. The rules that apply are those the
    container's bounding set and this host's kernel allow (shared/oci/seccomp.py).
    (`--privileged`, unconfined unless a profile is given, is not applied yet.)
    """
    chosen = "builtin"
    for option in options:
        # `=` first, as dockerd splits: a profile's JSON has colons of its own.
        key, sep, arg = option.partition("=") if "=" in option else option.partition(":")
        if key == "seccomp" and sep:
            chosen = arg
    if chosen == "unconfined":
        return None
    try:
        profile = seccomp.load_default() if chosen == "builtin" else seccomp.parse(chosen)
        return seccomp.to_oci(profile, bounding)
    except seccomp.ProfileError as e:
        raise SpecError(str(e)) from None


def exec_process(base: dict, body: dict, user: User, container_env: list[str]) -> dict:
    """The OCI `process` for `docker exec`: the container's process, with the exec's
    command, env added on top, and its own user, cwd and terminal."""
    process = copy.deepcopy(base)
    process["args"] = list(body.get("Cmd") or [])
    if not process["args"]:
        raise SpecError("No exec command specified")
    process["env"] = merge_env(container_env, body.get("Env") or [])
    process["cwd"] = body.get("WorkingDir") or base.get("cwd") or "/"
    process["terminal"] = bool(body.get("Tty"))
    process["user"] = {"uid": user.uid, "gid": user.gid}
    if user.additional_gids:
        process["user"]["additionalGids"] = list(user.additional_gids)
    process.pop("consoleSize", None)
    return process
