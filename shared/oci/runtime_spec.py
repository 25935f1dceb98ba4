"""From `docker create`'s request to an OCI runtime spec.

Every era consumes the same spec: the daemon translates what the user asked for
(the Engine API's Config and HostConfig) plus what the image says (its config) into
one `config.json`-shaped dict, and only what happens to that dict differs by era.
The rules below are Docker's own (moby's daemon/oci_linux.go and container merge).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

from shared.oci.defaults import default_spec

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CPU_PERIOD_US = 100_000  # the period Docker uses to turn --cpus into a CFS quota
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


def merge_env(image_env: list[str], user_env: list[str], extra: dict[str, str]) -> list[str]:
    """Image env, then daemon-set variables, then the user's: later keys win."""
    merged: dict[str, str] = {}
    for entry in [*image_env, *(f"{k}={v}" for k, v in extra.items()), *user_env]:
        key, sep, value = entry.partition("=")
        if not sep:
            continue  # `-e NAME` without a value and no such host variable: Docker drops it
        merged[key] = value
    merged.setdefault("PATH", DEFAULT_PATH)
    return [f"{k}={v}" for k, v in merged.items()]


def resources(host_config: dict) -> dict:
    """HostConfig limits -> linux.resources (cgroup settings), validated as Docker does."""
    res: dict = {}
    memory = int(host_config.get("Memory") or 0)
    if memory:
        if memory < 6 * 1024 * 1024:  # negative too, as Docker says
            raise SpecError("Minimum memory limit allowed is 6MB")
        res["memory"] = {"limit": memory}
        swap = int(host_config.get("MemorySwap") or 0)
        if swap > 0:
            if swap < memory:
                raise SpecError(
                    "Minimum memoryswap limit should be larger than memory limit, "
                    "see usage"
                )
            res["memory"]["swap"] = swap
    cpu: dict = {}
    nano = int(host_config.get("NanoCpus") or 0)
    if nano:
        import os

        if nano < 0 or nano > os.cpu_count() * 1_000_000_000:  # type: ignore[operator]
            n = os.cpu_count()
            raise SpecError(
                f"Range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available"
            )
        cpu["period"] = CPU_PERIOD_US
        cpu["quota"] = nano * CPU_PERIOD_US // 1_000_000_000
    if host_config.get("CpuQuota"):
        cpu["quota"] = int(host_config["CpuQuota"])
        cpu["period"] = int(host_config.get("CpuPeriod") or CPU_PERIOD_US)
    shares = int(host_config.get("CpuShares") or 0)
    if shares < 0:
        raise SpecError("invalid CPU shares: must be a positive number")
    if shares:
        cpu["shares"] = shares
    if cpu:
        res["cpu"] = cpu
    pids = host_config.get("PidsLimit")
    if pids:
        res["pids"] = {"limit": int(pids)}
    return res


def build(
    cid: str,
    config: dict,
    host_config: dict,
    image_config: dict,
    rootfs: str,
    user: User,
    hostname: str,
    cgroup_parent: str = "/whalebones",
    extra_mounts: list[dict] | None = None,
    netns_path: str | None = None,
    interfaces: list[dict] | None = None,
) -> dict:
    """The whole runtime spec for one container's first process.

    `netns_path`: a network namespace the daemon made and set up (bridge networking);
    the executor joins it (setns) rather than making an empty one.
    `interfaces`: or, for an executor that makes them itself, the interfaces of the
    new namespace it makes (manager.Endpoint.plan), in INTERFACES_ANNOTATION."""
    spec = default_spec()
    args = command(config, image_config)
    if not args:
        raise SpecError("no command specified")
    tty = bool(config.get("Tty"))
    extra = {"HOSTNAME": hostname}
    if tty:
        extra["TERM"] = "xterm"
    env = merge_env(image_config.get("Env") or [], config.get("Env") or [], extra)
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={user.home}")

    process = spec["process"]
    process["args"] = args
    process["env"] = env
    process["cwd"] = config.get("WorkingDir") or image_config.get("WorkingDir") or "/"
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
    linux = spec["linux"]
    linux["cgroupsPath"] = f"{cgroup_parent}/{cid}"
    linux.setdefault("resources", {}).update(resources(host_config))

    network = host_config.get("NetworkMode") or "default"
    if network == "host":
        # The host's network stack and, as Docker does, the host's name with it.
        linux["namespaces"] = [n for n in linux["namespaces"] if n["type"] != "network"]
    elif netns_path:
        for n in linux["namespaces"]:
            if n["type"] == "network":
                n["path"] = netns_path
    spec["annotations"] = {"org.opencontainers.image.stopSignal": stop_signal(config, image_config)}
    if interfaces and network != "host":
        spec["annotations"][INTERFACES_ANNOTATION] = json.dumps(interfaces)
    return copy.deepcopy(spec)


def planned_interfaces(spec: dict) -> list[dict]:
    """The interfaces the spec asks its executor to make (see `build`); [] if none."""
    return json.loads(spec.get("annotations", {}).get(INTERFACES_ANNOTATION) or "[]")


def no_new_privileges(options: list[str]) -> bool:
    """`--security-opt no-new-privileges[:true|false]`; on unless turned off.

    (Docker's default is off; this project's security baseline is on.) Options for
    mechanisms this project does not implement (seccomp, apparmor, SELinux labels) are
    accepted and have no effect, as on a Docker host without those modules.
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


def stop_signal(config: dict, image_config: dict) -> str:
    return config.get("StopSignal") or image_config.get("StopSignal") or "SIGTERM"


def exec_process(base: dict, body: dict, user: User, container_env: list[str]) -> dict:
    """The OCI `process` for `docker exec`: the container's process, with the exec's
    command, env added on top, and its own user, cwd and terminal."""
    process = copy.deepcopy(base)
    process["args"] = list(body.get("Cmd") or [])
    if not process["args"]:
        raise SpecError("No exec command specified")
    process["env"] = merge_env(container_env, body.get("Env") or [], {})
    process["cwd"] = body.get("WorkingDir") or base.get("cwd") or "/"
    process["terminal"] = bool(body.get("Tty"))
    process["user"] = {"uid": user.uid, "gid": user.gid}
    if user.additional_gids:
        process["user"]["additionalGids"] = list(user.additional_gids)
    process.pop("consoleSize", None)
    return process
