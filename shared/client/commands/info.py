"""`info`: system-wide facts from the daemon."""

from __future__ import annotations

from shared.client.api import Client
from shared.flags import Command

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command("info", "[OPTIONS]", "Display system-wide information", [], max_args=0)

FIELDS = [
    ("Containers", "Containers"),
    (" Running", "ContainersRunning"),
    (" Paused", "ContainersPaused"),
    (" Stopped", "ContainersStopped"),
    ("Images", "Images"),
    ("Server Version", "ServerVersion"),
    ("Storage Driver", "Driver"),
    ("Logging Driver", "LoggingDriver"),
    ("Cgroup Driver", "CgroupDriver"),
    ("Cgroup Version", "CgroupVersion"),
    ("Kernel Version", "KernelVersion"),
    ("Operating System", "OperatingSystem"),
    ("OSType", "OSType"),
    ("Architecture", "Architecture"),
    ("CPUs", "NCPU"),
    ("Total Memory", "MemTotal"),
    ("Name", "Name"),
    ("ID", "ID"),
    ("Docker Root Dir", "DockerRootDir"),
    ("Debug Mode", "Debug"),
]


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    info = client.request("GET", "/info")
    print("Server:")
    for label, key in FIELDS:
        if key in info:
            value = info[key]
            if isinstance(value, bool):
                value = "true" if value else "false"
            print(f" {label}: {value}")
    return 0
