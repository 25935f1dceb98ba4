"""Containers as the Engine API shows them: `inspect`, `ps` rows, exec inspect."""

from __future__ import annotations

import time

from shared.daemon.engine import Engine, Exec
from shared.daemon.state import Container, rfc3339
from shared.humanize import human_duration


def status_text(c: Container) -> str:
    now = time.time()
    st = c.state
    if st.status == "running":
        return f"Up {human_duration(now - st.started_at)}"
    if st.status == "paused":
        return f"Up {human_duration(now - st.started_at)} (Paused)"
    if st.status == "exited":
        return f"Exited ({st.exit_code}) {human_duration(now - st.finished_at)} ago"
    return "Created"


def public_status(c: Container) -> str:
    # "starting" is the daemon's own transient state; clients know only Docker's.
    return "created" if c.state.status == "starting" else c.state.status


def summary(engine: Engine, c: Container) -> dict:
    command = " ".join([c.path, *c.args])
    return {
        "Id": c.id,
        "Names": [f"/{c.name}"],
        "Image": c.image_ref,
        "ImageID": c.image_id,
        "Command": command,
        "Created": int(c.created),
        "Ports": [],
        "Labels": c.config.get("Labels") or {},
        "State": public_status(c),
        "Status": status_text(c),
        "HostConfig": {"NetworkMode": c.host_config.get("NetworkMode", "default")},
        "NetworkSettings": {"Networks": {}},
        "Mounts": [],
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
            "Running": st.running,
            "Paused": st.status == "paused",
            "Restarting": False,
            "OOMKilled": st.oom_killed,
            "Dead": False,
            "Pid": st.pid,
            "ExitCode": st.exit_code,
            "Error": st.error,
            "StartedAt": rfc3339(st.started_at),
            "FinishedAt": rfc3339(st.finished_at),
        },
        "Image": c.image_id,
        "ResolvConfPath": "",
        "HostnamePath": "",
        "HostsPath": "",
        "LogPath": engine.log_path(c),
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
        "Mounts": [],
        "Config": c.config,
        "NetworkSettings": {
            "Bridge": "",
            "SandboxID": "",
            "Ports": {},
            "Networks": {},
            "IPAddress": "",
            "Gateway": "",
            "MacAddress": "",
        },
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
