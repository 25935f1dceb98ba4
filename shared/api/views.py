"""Containers as the Engine API shows them: `inspect`, `ps` rows, exec inspect."""

from __future__ import annotations

import time

from shared.daemon import health, logdrivers
from shared.daemon.engine import Engine
from shared.daemon.execs import Exec
from shared.daemon.state import Container, rfc3339
from shared.humanize import human_duration
from shared.images import snapshots
from shared.network.manager import Sandbox
from shared.volumes import mountpoints


def status_text(c: Container) -> str:
    now = time.time()
    st = c.state
    if st.status == "running":
        return f"Up {human_duration(now - st.started_at)}{health.status_suffix(c)}"
    if st.status == "paused":
        return f"Up {human_duration(now - st.started_at)} (Paused)"
    if st.status == "restarting":
        return f"Restarting ({st.exit_code}) {human_duration(now - st.finished_at)} ago"
    if st.status == "exited":
        return f"Exited ({st.exit_code}) {human_duration(now - st.finished_at)} ago"
    return "Created"


def public_status(c: Container) -> str:
    # "starting" is the daemon's own transient state; clients know only Docker's.
    return "created" if c.state.status == "starting" else c.state.status


def _sandbox(engine: Engine, c: Container) -> Sandbox | None:
    if engine.network is None or not c.state.running:
        return None
    return engine.network.sandbox(c.id)


def endpoints(engine: Engine, c: Container) -> dict:
    """NetworkSettings.Networks: every network the container is on; addresses while
    it runs (a stopped container holds none, as in Docker)."""
    sb = _sandbox(engine, c)
    live = {ep.network: ep for ep in sb.endpoints} if sb else {}
    mode = c.host_config.get("NetworkMode", "default")
    names = list(c.networks) or ([mode] if mode in ("none", "host") else [])
    found = {}
    for name in names:
        ep = live.get(name)
        net = None
        if engine.network is not None:
            try:
                net = engine.network.get(name)
            except Exception:  # removed since: Docker shows what it can
                net = None
        config = c.networks.get(name) or {}
        found[name] = {
            "IPAMConfig": config.get("IPAMConfig"),
            "Links": None,
            "Aliases": config.get("Aliases"),
            "MacAddress": ep.mac if ep else "",
            "NetworkID": net.id if net else "",
            "EndpointID": ep.endpoint_id if ep else "",
            "Gateway": ep.gateway if ep else "",
            "IPAddress": ep.address if ep else "",
            "IPPrefixLen": ep.prefixlen if ep else 0,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "DNSNames": ([c.name, c.short_id, *(config.get("Aliases") or [])]
                         if net is not None and net.user_defined else None),
        }
    return found


def ports(engine: Engine, c: Container) -> dict:
    """NetworkSettings.Ports: "80/tcp" -> [{"HostIp", "HostPort"}] (None: exposed only)."""
    found: dict = {}
    for key in (c.config.get("ExposedPorts") or {}):
        found.setdefault(key if "/" in key else f"{key}/tcp", None)
    sb = _sandbox(engine, c)
    for p in sb.ports if sb else []:
        found.setdefault(f"{p.port}/{p.proto}", None)
        found[f"{p.port}/{p.proto}"] = (found[f"{p.port}/{p.proto}"] or []) + [
            {"HostIp": p.host_ip or "0.0.0.0", "HostPort": str(p.host_port)}]
    return found


def port_list(engine: Engine, c: Container) -> list[dict]:
    """`docker ps`'s Ports column: one entry per published or exposed port."""
    items = []
    for key, bound in ports(engine, c).items():
        port, _, proto = key.partition("/")
        if not (port.isascii() and port.isdigit()):
            continue  # an image's ExposedPorts may hold anything: no port, nothing shown
        if not bound:
            items.append({"PrivatePort": int(port), "Type": proto})
        for b in bound or []:
            items.append({"IP": b["HostIp"], "PrivatePort": int(port),
                          "PublicPort": int(b["HostPort"]), "Type": proto})
    return items


def summary(engine: Engine, c: Container) -> dict:
    command = " ".join([c.path, *c.args])
    return {
        "Id": c.id,
        "Names": [f"/{c.name}"],
        "Image": c.image_ref,
        "ImageID": c.image_id,
        "Command": command,
        "Created": int(c.created),
        "Ports": port_list(engine, c),
        "Labels": c.config.get("Labels") or {},
        "State": public_status(c),
        "Status": status_text(c),
        "HostConfig": {"NetworkMode": c.host_config.get("NetworkMode", "default")},
        "NetworkSettings": {"Networks": endpoints(engine, c)},
        "Mounts": [mountpoints.view(m) for m in c.mount_points],
    }


def inspect(engine: Engine, c: Container) -> dict:
    st = c.state
    return {
        "Id": c.id,
        "Created": rfc3339(c.created),
        "Path": c.path,
        "Args": c.args,
        "State": {
            "Status": public_status(c),
            "Running": st.running or st.status == "restarting",  # as dockerd's
            "Paused": st.status == "paused",
            "Restarting": st.status == "restarting",
            "OOMKilled": st.oom_killed,
            "Dead": False,
            "Pid": st.pid,
            "ExitCode": st.exit_code,
            "Error": st.error,
            "StartedAt": rfc3339(st.started_at),
            "FinishedAt": rfc3339(st.finished_at),
            **({"Health": health.view(c)} if c.health is not None else {}),
        },
        "Image": c.image_id,
        "ResolvConfPath": "",
        "HostnamePath": "",
        "HostsPath": "",
        # json-file's only: dockerd keeps the local driver's file private
        "LogPath": engine.log_path(c) if logdrivers.of(c.host_config)[0] == "json-file"
        else "",
        "Name": f"/{c.name}",
        "RestartCount": c.restart_count,
        "Driver": "overlay",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": c.execs or None,
        "HostConfig": c.host_config,
        "GraphDriver": {"Name": "overlay", "Data": {}},
        "Mounts": [mountpoints.view(m) for m in c.mount_points],
        "Config": c.config,
        "NetworkSettings": network_settings(engine, c),
    }


def network_settings(engine: Engine, c: Container) -> dict:
    networks = endpoints(engine, c)
    sb = _sandbox(engine, c)
    default = networks.get("bridge") or {}  # the top-level fields: the default bridge's
    return {
        "Bridge": "",
        "SandboxID": c.id if sb else "",
        "SandboxKey": sb.path if sb else "",
        "HairpinMode": False,
        "Ports": ports(engine, c),
        "Networks": networks,
        "IPAddress": default.get("IPAddress", ""),
        "IPPrefixLen": default.get("IPPrefixLen", 0),
        "Gateway": default.get("Gateway", ""),
        "MacAddress": default.get("MacAddress", ""),
        "EndpointID": default.get("EndpointID", ""),
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPv6Gateway": "",
    }


def exec_inspect(ex: Exec) -> dict:
    body = ex.body
    cmd = list(body.get("Cmd") or [])
    return {
        "ID": ex.id,
        "Running": ex.running,
        "ExitCode": ex.exit_code,
        "ProcessConfig": {
            "tty": bool(body.get("Tty")),
            "entrypoint": cmd[0] if cmd else "",
            "arguments": cmd[1:],
            "privileged": bool(body.get("Privileged")),
            "user": body.get("User") or "",
        },
        "OpenStdin": bool(body.get("AttachStdin")),
        "OpenStderr": bool(body.get("AttachStderr")),
        "OpenStdout": bool(body.get("AttachStdout")),
        "CanRemove": False,
        "ContainerID": ex.container_id,
        "DetachKeys": "",
        "Pid": ex.pid,
    }


def sizes(engine: Engine, c: Container) -> dict:
    """SizeRw (what the container wrote) and SizeRootFs (its whole filesystem: the
    image and that), which `docker ps -s` and `inspect --size` ask for."""
    written = snapshots.written_size(engine.containers.dir(c.id))
    try:
        image_size = engine.images.get(c.image_id).size
    except LookupError:
        image_size = 0  # the image is gone (rmi -f): Docker counts what is left
    return {"SizeRw": written, "SizeRootFs": image_size + written}

