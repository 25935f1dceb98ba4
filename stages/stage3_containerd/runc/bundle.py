"""An OCI bundle: a directory holding config.json and (usually) the rootfs.

What libcontainer is handed is the spec from config.json with two things settled,
because libcontainer runs in other processes and other working directories:

- root.path, which the spec allows to be relative to the bundle, made absolute;
- linux.cgroupsPath, which may be absent: runc would then nest the container under
  the caller's own cgroup; we put it under /whalebones/<id> instead, so a container
  never lands in (and is never limited with) whoever happened to call us.
"""

from __future__ import annotations

import json
import os


class BundleError(Exception):
    pass


def load_spec(bundle: str, cid: str) -> dict:
    path = os.path.join(bundle, "config.json")
    try:
        with open(path) as f:
            spec = json.load(f)
    except FileNotFoundError:
        raise BundleError(f"load bundle {bundle}: {path} does not exist") from None
    except ValueError as e:
        raise BundleError(f"load bundle {bundle}: {path}: {e}") from None
    if not isinstance(spec, dict) or not (spec.get("process") or {}).get("args"):
        raise BundleError(f"load bundle {bundle}: {path}: process.args is missing")
    root = spec.setdefault("root", {})
    # os.path.join keeps an absolute root.path as it is.
    root["path"] = os.path.normpath(os.path.join(bundle, root.get("path") or "rootfs"))
    linux = spec.setdefault("linux", {})
    if not linux.get("cgroupsPath"):
        linux["cgroupsPath"] = f"/whalebones/{cid}"
    return spec
