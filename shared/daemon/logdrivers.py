"""Log drivers: where a container's output is kept, chosen by `--log-driver`.

dockerd hands each line a container prints to its LogConfig's driver. Three are
built here, the three that keep the log on the daemon's own machine:

    json-file  <container dir>/<id>-json.log, one JSON object a line; unbounded unless
               --log-opt max-size/max-file/compress say otherwise (Docker's default)
    local      <container dir>/local-logs/container.log, bounded by default (20 MB a
               file, 5 files, rotated files gzipped), the driver Docker recommends
               for a long-running machine. moby writes it as length-prefixed protobuf
               records; here it keeps json-file's lines (shared/daemon/logs.py), the
               on-disk format being private to the daemon (moby hides its path:
               LogPath is "" in inspect).
    none       nothing kept: `docker logs` answers 501, "configured logging driver
               does not support reading", as dockerd does; attach still shows output.

The drivers that ship a log elsewhere (syslog, journald, gelf, fluentd...) are
refused with a 400 when the container is created, never accepted and dropped.
"""

from __future__ import annotations

import os

from shared.daemon import logs
from shared.daemon.logs import Limits

NAMES = ("json-file", "local", "none")
DEFAULT = "json-file"

# moby's local driver: its options and its defaults (daemon/logger/local)
LOCAL_OPTIONS = ("max-file", "max-size", "compress", *logs.ATTRIBUTE_OPTIONS)
LOCAL_DEFAULTS = Limits(max_size=20 * 1024 * 1024, max_files=5, compress=True)


def check(log_type: str, config: dict[str, str]) -> Limits:
    """A LogConfig's driver and options, read as dockerd reads them; ValueError (with
    dockerd's words where it has them) for what it refuses, and for the drivers not
    built here. Returns how big its log may grow."""
    if log_type == "none":
        if config:
            # moby ignores options given to none; the docker CLI refuses them so
            raise ValueError("invalid logging opts for driver none")
        return Limits()
    if log_type == "local":
        return local_options(config)
    if log_type in ("", "json-file"):
        return logs.options(config)
    raise ValueError(f"logger: no log driver named '{log_type}' is registered "
                     f"(this engine has {', '.join(NAMES)})")


def local_options(config: dict[str, str]) -> Limits:
    """moby's local.ValidateLogOpt and newConfig."""
    for key in config:
        if key not in LOCAL_OPTIONS:
            raise ValueError(f"unknown log opt '{key}' for log driver local")
    limits = LOCAL_DEFAULTS
    max_size, max_files, compress = limits.max_size, limits.max_files, limits.compress
    if "max-size" in config:
        text = config["max-size"]
        try:
            max_size = logs.from_human_size(text)
        except ValueError as e:
            raise ValueError(f"invalid value for max-size: {text}: {e}") from None
    if "max-file" in config:
        text = config["max-file"]
        if not text.lstrip("+-").isdigit() or not text.isascii():
            raise ValueError(f"invalid value for max-file: {text}: strconv.Atoi: "
                             f'parsing "{text}": invalid syntax')
        max_files = int(text)
    if "compress" in config:
        try:
            compress = logs.parse_bool(config["compress"])
        except ValueError as e:
            raise ValueError(f"invalid boolean value for compress: {e}") from None
    if max_size < 0:
        raise ValueError("max-size must not be negative")
    if max_files < 0:
        raise ValueError("max-file must not be negative")
    if compress and max_files <= 1:
        # compression is of rotated files: none without rotation
        raise ValueError("compression cannot be enabled when max file count is 1")
    logs.refuse_attributes(config)
    return Limits(max_size, max(max_files, 1), compress)


def of(host_config: dict) -> tuple[str, dict[str, str]]:
    """A container's driver and options (the record keeps them filled in at create)."""
    log_config = host_config.get("LogConfig") or {}
    return log_config.get("Type") or DEFAULT, dict(log_config.get("Config") or {})


def container_limits(host_config: dict) -> Limits:
    """How big the container's log may grow (checked at create: check())."""
    try:
        return check(*of(host_config))
    except ValueError:
        return Limits()  # a record older than the checks: no limits


def container_log_path(container_dir: str, cid: str, host_config: dict) -> str:
    """Where the container's log is kept; "" for none."""
    driver, _ = of(host_config)
    if driver == "none":
        return ""
    if driver == "local":
        return os.path.join(container_dir, "local-logs", "container.log")
    return os.path.join(container_dir, f"{cid}-json.log")


def readable(host_config: dict) -> bool:
    return of(host_config)[0] != "none"
