"""daemon.json: the daemon's settings in a file, read as dockerd reads its own.

dockerd reads /etc/docker/daemon.json (or `--config-file PATH`) at start and refuses
to start over a key it does not know ("the following directives don't match any
configuration option"), or a setting given both as a flag and in the file: a typo in
a config file must not be silently a default. We read /etc/whalebones/daemon.json the
same way. Each key below is applied; a key dockerd knows but this daemon does not
apply is refused by name at start, never accepted and ignored.

SIGHUP makes dockerd read the file again and apply what can change while it runs
(here: live-restore, labels, debug; daemon/reload.go).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_PATH = "/etc/whalebones/daemon.json"

# What this daemon applies, and where.
APPLIED = {
    "live-restore": "the engine: containers outlive the daemon (stage 3 on)",
    "debug": "the daemon's log level; Debug in /info",
    "labels": "Labels in /info",
    "log-driver": "the default LogConfig.Type at create (json-file, local or none)",
    "log-opts": "the default LogConfig.Config at create",
    "default-ulimits": "merged into HostConfig.Ulimits at create",
    "registry-mirrors": "pull from docker.io: the mirrors first, in order",
    "insecure-registries": "plain HTTP to these registries",
}
# Keys dockerd knows that this daemon does not apply (yet): refused by name.
NOT_APPLIED = (
    "default-address-pools", "data-root", "exec-root", "hosts", "storage-driver",
    "storage-opts", "bip", "bridge", "fixed-cidr", "default-gateway", "dns", "dns-opts",
    "dns-search", "mtu", "iptables", "ip6tables", "ip-forward", "ip-masq", "ipv6",
    "icc", "userns-remap", "default-runtime", "runtimes", "exec-opts", "cgroup-parent",
    "default-cgroupns-mode", "default-ipc-mode", "default-shm-size", "seccomp-profile",
    "no-new-privileges", "selinux-enabled", "shutdown-timeout", "max-concurrent-downloads",
    "max-concurrent-uploads", "max-download-attempts", "experimental", "features",
    "log-level", "log-format", "tls", "tlsverify", "tlscacert", "tlscert", "tlskey",
    "group", "pidfile", "containerd", "init", "init-path", "userland-proxy",
    "allow-nondistributable-artifacts", "authorization-plugins", "builder",
    "cluster-store", "default-network-opts", "metrics-addr", "oom-score-adjust",
    "proxies", "raw-logs", "swarm-default-advertise-addr", "node-generic-resources",
)
ULIMIT_NAME = re.compile(r"^[a-z]+$")


class ConfigError(Exception):
    """The file cannot be used: the daemon does not start (or, on SIGHUP, keeps the
    settings it has)."""


@dataclass
class DaemonConfig:
    live_restore: bool = False
    debug: bool = False
    labels: list[str] = field(default_factory=list)
    log_driver: str = "json-file"
    log_opts: dict[str, str] = field(default_factory=dict)
    default_ulimits: dict[str, dict] = field(default_factory=dict)
    registry_mirrors: list[str] = field(default_factory=list)
    insecure_registries: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)  # those the file set


def read(path: str, required: bool) -> DaemonConfig:
    """The settings in `path`; defaults if it does not exist and was not asked for
    (dockerd reads its default file only if it is there)."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"unable to configure the Docker daemon with file {path}: "
                              f"open {path}: no such file or directory") from None
        return DaemonConfig()
    except OSError as e:
        raise ConfigError(f"unable to configure the Docker daemon with file {path}: "
                          f"{e}") from None
    try:
        return parse(text)
    except ConfigError as e:
        raise ConfigError(f"unable to configure the Docker daemon with file {path}: "
                          f"{e}") from None


def parse(text: str) -> DaemonConfig:
    if not text.strip():
        return DaemonConfig()  # dockerd takes an empty file as no settings
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"invalid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError("the file must hold a JSON object")
    unknown = sorted(k for k in data if k not in APPLIED and k not in NOT_APPLIED)
    if unknown:
        raise ConfigError("the following directives don't match any configuration "
                          f"option: {', '.join(unknown)}")
    refused = sorted(k for k in data if k in NOT_APPLIED)
    if refused:
        raise ConfigError(f"{', '.join(refused)}: not supported by this daemon "
                          "(Whalebones) yet; remove it from the file")
    config = DaemonConfig(keys=set(data))
    config.live_restore = _bool(data, "live-restore")
    config.debug = _bool(data, "debug")
    config.labels = _labels(data.get("labels", []))
    from shared.daemon import logdrivers

    config.log_driver = data.get("log-driver", "json-file")
    if config.log_driver not in logdrivers.NAMES:
        raise ConfigError(f"log-driver {config.log_driver!r}: only "
                          f"{', '.join(logdrivers.NAMES)} are supported by this daemon")
    config.log_opts = _string_map(data.get("log-opts", {}), "log-opts")
    try:
        logdrivers.check(config.log_driver, config.log_opts)  # as a container's own
    except ValueError as e:
        raise ConfigError(f"log-opts: {e}") from None
    config.default_ulimits = _ulimits(data.get("default-ulimits", {}))
    config.registry_mirrors = [_mirror(m) for m in _strings(data, "registry-mirrors")]
    config.insecure_registries = [_insecure(r) for r in _strings(data, "insecure-registries")]
    return config


def check_flags(config: DaemonConfig, flags: dict[str, Any]) -> None:
    """A setting both on the command line and in the file: refused, as dockerd does
    (it will not guess which one was meant)."""
    both = [f"{key}: (from flag: {str(value).lower()}, from file: "
            f"{str(getattr(config, key.replace('-', '_'))).lower()})"
            for key, value in flags.items() if value and key in config.keys]
    if both:
        raise ConfigError("the following directives are specified both as a flag and in "
                          f"the configuration file: {', '.join(both)}")


def _bool(data: dict, key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, not {value!r}")
    return value


def _strings(data: dict, key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings")
    return value


def _string_map(value: object, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{key} must be an object of strings")
    return dict(value)


def _labels(value: object) -> list[str]:
    """dockerd's opts.ValidateLabel: key=value, each key once."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("labels must be a list of strings")
    seen: set[str] = set()
    for label in value:
        key, sep, _ = label.partition("=")
        if not sep or not key:
            raise ConfigError(f"invalid label '{label}': label must be in format "
                              "key=value")
        if key in seen:
            raise ConfigError(f"labels: key {key!r} given twice")
        seen.add(key)
    return value


def _ulimits(value: object) -> dict[str, dict]:
    """{"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}}, as dockerd's."""
    if not isinstance(value, dict):
        raise ConfigError("default-ulimits must be an object")
    result = {}
    for name, ulimit in value.items():
        if not isinstance(ulimit, dict) or not ULIMIT_NAME.match(name):
            raise ConfigError(f"default-ulimits: invalid ulimit {name!r}")
        soft, hard = ulimit.get("Soft", 0), ulimit.get("Hard", 0)
        if not isinstance(soft, int) or not isinstance(hard, int):
            raise ConfigError(f"default-ulimits: {name}: Soft and Hard must be integers")
        result[name] = {"Name": ulimit.get("Name") or name, "Soft": soft, "Hard": hard}
    # Checked as a container's own (--ulimit): a bad one stops the daemon now rather
    # than every create later.
    from shared.oci import confinement
    try:
        confinement.rlimits({"Ulimits": list(result.values())})
    except confinement.ConfinementError as e:
        raise ConfigError(f"default-ulimits: {e}") from None
    return result


def _mirror(url: str) -> str:
    """dockerd's ValidateMirror: an http(s) URL with no path beyond "/", kept with
    one trailing "/" (as `docker info` shows it)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https") or not rest:
        raise ConfigError(f"invalid mirror: unsupported scheme {scheme!r} in {url!r}: "
                          "must use either 'https://' or 'http://'")
    if rest.rstrip("/").count("/"):
        raise ConfigError(f"invalid mirror: path, query, or fragment at end of the URI "
                          f"{url!r}")
    return f"{scheme}://{rest.rstrip('/')}/"


def _insecure(entry: str) -> str:
    """A registry (host[:port]) or a CIDR of them; no scheme, as dockerd requires."""
    if "://" in entry:
        raise ConfigError(f"insecure registry {entry} should not contain '://'")
    if "/" in entry:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(f"insecure registry {entry}: not a host or CIDR") from None
    return entry



def with_log_defaults(host_config: dict, config: DaemonConfig) -> dict:
    """The daemon's log-driver and log-opts under a container's own (dockerd's
    mergeAndVerifyLogConfig, at create): the container's options win, the daemon's
    fill in, only when it uses the daemon's driver."""
    log_config = dict(host_config.get("LogConfig") or {})
    log_config["Type"] = log_config.get("Type") or config.log_driver
    options = dict(log_config.get("Config") or {})
    if log_config["Type"] == config.log_driver:
        for key, value in config.log_opts.items():
            options.setdefault(key, value)
    log_config["Config"] = options
    return {**host_config, "LogConfig": log_config}


def with_default_ulimits(host_config: dict, config: DaemonConfig) -> list[dict]:
    """HostConfig.Ulimits with the daemon's default-ulimits added for each name the
    container does not set itself (dockerd's mergeUlimits, at start)."""
    ulimits = list(host_config.get("Ulimits") or [])
    named = {u.get("Name") for u in ulimits}
    return ulimits + [u for name, u in config.default_ulimits.items() if name not in named]
