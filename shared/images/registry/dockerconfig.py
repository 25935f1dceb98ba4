"""Credentials as the docker CLI keeps them: `~/.docker/config.json` ($DOCKER_CONFIG).

    {"auths": {"127.0.0.1:5000": {"auth": "dXNlcjpwYXNz"}}}     base64 of "user:pass"

`docker login` writes there and `docker logout` removes the entry; `pull` and `push`
read it and hand the daemon what they found in the `X-Registry-Auth` header. The
daemon itself never reads this file: the credentials belong to the user, not to the
machine. (Docker can also keep them in a credential helper, "credsStore"; we do not.)

Base64 is an encoding, not encryption: this file holds the password itself, which is
why Docker creates it readable by its owner only, and so do we.

Standard library only, and little of it: the CLI imports this on every pull.
"""

from __future__ import annotations

import json
import os

DOCKER_HUB = "docker.io"
# The key Docker has always used for Docker Hub's credentials (its v1 index).
DOCKER_HUB_KEY = "https://index.docker.io/v1/"


def config_path() -> str:
    directory = os.environ.get("DOCKER_CONFIG") or os.path.join(
        os.path.expanduser("~"), ".docker"
    )
    return os.path.join(directory, "config.json")


def read_config(path: str | None = None) -> dict:
    try:
        with open(path or config_path()) as f:
            config = json.load(f)
    except FileNotFoundError:
        return {}
    return config if isinstance(config, dict) else {}


def config_key(registry: str) -> str:
    """The key under `auths` for a registry as the user names it."""
    registry = registry.removeprefix("https://").removeprefix("http://").rstrip("/")
    if registry in ("", DOCKER_HUB, "index.docker.io", "registry-1.docker.io"):
        return DOCKER_HUB_KEY
    return registry


def lookup(registry: str, path: str | None = None) -> tuple[str, str] | None:
    """(username, password) stored for `registry`, or None."""
    auths = read_config(path).get("auths") or {}
    wanted = config_key(registry)
    for key, entry in auths.items():
        # Older CLIs wrote "https://host:port/v1/": compare hosts only.
        host = key.removeprefix("https://").removeprefix("http://").split("/")[0]
        if key == wanted or (wanted != DOCKER_HUB_KEY and host == wanted):
            encoded = (entry or {}).get("auth")
            if encoded:
                # base64 is imported where it is used: `./run` reads only detachKeys
                # from this file, and base64's import is ~0.6 ms of each ./run.
                import base64

                username, _, password = base64.b64decode(encoded).decode().partition(":")
                return username, password
    return None


def store(registry: str, username: str, password: str, path: str | None = None) -> str:
    """Save a login; return the file written."""
    import base64

    path = path or config_path()
    config = read_config(path)
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    config.setdefault("auths", {})[config_key(registry)] = {"auth": encoded}
    _write(path, config)
    return path


def remove(registry: str, path: str | None = None) -> bool:
    """Forget a login; False when there was none."""
    path = path or config_path()
    config = read_config(path)
    if config.get("auths", {}).pop(config_key(registry), None) is None:
        return False
    _write(path, config)
    return True


def _write(path: str, config: dict) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = path + ".tmp"
    # 0600 from the start: the password is never readable by others, not even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(config, f, indent="\t")
        f.write("\n")
    os.replace(tmp, path)


def registry_auth_header(registry: str, path: str | None = None) -> str:
    """The `X-Registry-Auth` value for `registry`: base64url of a JSON AuthConfig.

    Docker sends `e30=` (`{}`) when it has no credentials; so do we."""
    found = lookup(registry, path)
    auth: dict[str, str] = {}
    if found:
        auth = {"username": found[0], "password": found[1], "serveraddress": registry}
    import base64

    return base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()
