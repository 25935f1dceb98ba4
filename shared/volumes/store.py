"""The daemon's volumes: the local driver (moby's daemon/volume/local, volume/service).

A volume is a directory, <root>/volumes/NAME/_data, that containers bind; its record,
<root>/volumes/NAME/volume.json, says who made it, when, with which labels and driver
options. The record is written last (and atomically: temp file, fsync, rename), so a
daemon killed half-way through a create leaves a directory without a record, which the
next daemon removes: never half a volume. The tree is root's alone (0700): a volume
holds a container's data, which no other user of the host should read.

`--opt type=tmpfs|none,device=...,o=...`: a volume mounted at its first use (mount(8),
which turns "o=" into flags and data as dockerd's moby/sys/mount does) and unmounted at
its last; its _data is then an empty directory again.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from shared.errors import Conflict, EngineError, InvalidParameter, NotFound
from shared.privatedirs import make_private_dir, private_file

VALID_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z")  # moby's RestrictedNameChars
VALID_OPTIONS = ("type", "o", "device", "size")
# Docker 23+ marks a volume it made for a container (an image's VOLUME, `-v /path`) so;
# a prune without `all` removes only these.
ANONYMOUS_LABEL = "com.docker.volume.anonymous"
MANDATORY_OPTIONS = {"device": ["type"], "type": ["device"], "o": ["device", "type"]}


class NoSuchVolume(NotFound):
    def __init__(self, name: str, op: str = "get") -> None:
        super().__init__(f"{op} {name}: no such volume")


@dataclass
class Volume:
    name: str
    created: float
    driver: str = "local"
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    anonymous: bool = False

    def needs_mount(self) -> bool:
        return bool(self.options.get("type") or self.options.get("device"))


def check_name(name: str) -> None:
    """The local driver's validateName."""
    if len(name) == 1:
        raise InvalidParameter("volume name is too short, names should be at least two "
                               "alphanumeric characters")
    if not VALID_NAME.match(name):
        raise InvalidParameter(
            f'"{name}" includes invalid characters for a local volume name, only '
            '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
            "directory, use absolute path")


def check_options(options: dict[str, str]) -> None:
    """The local driver's validateOpts (no quota support here: `size` is refused, as
    dockerd refuses it on a filesystem without project quotas)."""
    for key in options:
        if key not in VALID_OPTIONS:
            raise InvalidParameter(f'invalid option: "{key}"')
    if "size" in options:
        raise InvalidParameter("quota size requested but no quota support")
    for key, needs in MANDATORY_OPTIONS.items():
        if key in options:
            for other in needs:
                if other not in options:
                    raise InvalidParameter(f'missing required option: "{other}"')


class VolumeStore:
    """The volumes under one root, and which are mounted for whom."""

    def __init__(self, root: str, users: Callable[[str], list[str]],
                 log: Callable[[str, str], object] | None = None) -> None:
        """`users(name)`: the ids of the containers whose mount points name the volume
        (the daemon's containers are the one truth of who uses what). `log(action,
        name)`: where "create" and "destroy" are told (the daemon's events)."""
        self.root = root
        self.log = log or (lambda action, name: None)
        make_private_dir(root)
        self.users = users
        self.lock = threading.RLock()
        self._volumes: dict[str, Volume] = {}
        self._active: dict[str, int] = {}  # name -> mounts in use, for driver-opts ones
        for name in sorted(os.listdir(root)):
            try:
                with open(os.path.join(root, name, "volume.json")) as f:
                    self._volumes[name] = Volume(**json.load(f))
            except (OSError, ValueError, TypeError):
                # No record: a create that died half-way; the user never had it.
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
                continue

    # ------------------------------------------------------------------ paths

    def data_path(self, name: str) -> str:
        return os.path.join(self.root, name, "_data")

    # ------------------------------------------------------------------ CRUD

    def create(self, name: str = "", driver: str = "local", labels: dict | None = None,
               options: dict | None = None, anonymous: bool = False) -> tuple[Volume, bool]:
        """-> (the volume, whether it was made now). Creating a name that exists
        returns it, as dockerd does (its labels and options are not changed). No name:
        a random one; `anonymous`: one made for a container, which `rm -v` removes."""
        driver = driver or "local"
        if driver != "local":  # no volume plugins here (moby's OpErr wording)
            raise NotFound(f"create {name}: error looking up volume plugin {driver}: "
                           f"plugin \"{driver}\" not found")
        if not name:
            name = secrets.token_hex(32)
        with self.lock:
            if name in self._volumes:
                return self._volumes[name], False
            options = {str(k): str(v) for k, v in (options or {}).items()}
            try:
                check_name(name)
                check_options(options)
            except InvalidParameter as e:  # in moby's OpErr: "create NAME: ..."
                raise InvalidParameter(f"create {name}: {e}") from None
            labels = {**(labels or {}), **({ANONYMOUS_LABEL: ""} if anonymous else {})}
            v = Volume(name=name, created=time.time(), labels=labels,
                       options=options, anonymous=anonymous)
            directory = os.path.join(self.root, name)
            try:
                make_private_dir(directory)
                # _data itself as Docker makes it: 0755 root, so that a container's
                # unprivileged user can enter what it mounts.
                os.makedirs(self.data_path(name), mode=0o755, exist_ok=True)
                tmp = os.path.join(directory, ".volume.json.tmp")
                with private_file(tmp) as f:
                    json.dump(asdict(v), f)
                    f.flush()
                    os.fsync(f.fileno())
                os.rename(tmp, os.path.join(directory, "volume.json"))
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            self._volumes[name] = v
        self.log("create", name)
        return v, True

    def get(self, name: str) -> Volume:
        with self.lock:
            if name not in self._volumes:
                raise NoSuchVolume(name)
            return self._volumes[name]

    def all(self) -> list[Volume]:
        with self.lock:
            return list(self._volumes.values())

    def remove(self, name: str, force: bool = False, leaving: str = "") -> None:
        """`docker volume rm`: refused while a container names it (moby's
        errVolumeInUse, in an OpErr: "remove NAME: volume is in use - [IDS]").
        `leaving`: a container being removed, whose use does not count."""
        with self.lock:
            if name not in self._volumes:
                if force:
                    return
                raise NoSuchVolume(name, "get")
            users = [u for u in self.users(name) if u != leaving]
            if users:
                raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
            self._unmount_quietly(name)
            del self._volumes[name]
            directory = os.path.join(self.root, name)
            # The record goes first: a daemon killed now finds no half-volume.
            try:
                os.unlink(os.path.join(directory, "volume.json"))
            except FileNotFoundError:
                pass
            shutil.rmtree(directory, ignore_errors=True)
        self.log("destroy", name)

    def size(self, name: str) -> int:
        """The disk its files take (what `docker system df` and a prune report)."""
        total = 0
        for directory, _, files in os.walk(self.data_path(name)):
            for f in files:
                try:
                    total += os.lstat(os.path.join(directory, f)).st_blocks * 512
                except OSError:
                    continue
        return total

    # ------------------------------------------------------------------ use

    def mount(self, name: str) -> str:
        """The path to bind into a container, mounting a driver-opts volume at its
        first use (Docker's local driver's Mount)."""
        with self.lock:
            v = self.get(name)
            path = self.data_path(name)
            if v.needs_mount():
                if self._active.get(name, 0) == 0:
                    self._mount(v, path)
                self._active[name] = self._active.get(name, 0) + 1
            return path

    def settle(self, in_use: dict[str, int]) -> None:
        """After a daemon restart (once its containers are recovered): `in_use`, the
        volumes the containers still running hold, and how many each. What the last
        daemon mounted for them stays, counted; any other mount it left goes."""
        with self.lock:
            for name, v in self._volumes.items():
                if not v.needs_mount():
                    continue
                if in_use.get(name) and is_mount_point(self.data_path(name)):
                    self._active[name] = in_use[name]
                else:
                    self._active.pop(name, None)
                    self._unmount_quietly(name)

    def unmount(self, name: str) -> None:
        with self.lock:
            v = self._volumes.get(name)
            if v is None or not v.needs_mount() or not self._active.get(name):
                return  # not mounted by this daemon (settle() sees to what is left)
            left = self._active.get(name, 0) - 1
            if left > 0:
                self._active[name] = left
                return
            self._active.pop(name, None)
            self._unmount_quietly(name)

    def _mount(self, v: Volume, path: str) -> None:
        if not v.options.get("device"):
            raise EngineError("missing device in volume options")
        command = ["mount", "-t", v.options.get("type") or "none"]
        if v.options.get("o"):
            command += ["-o", v.options["o"]]
        done = subprocess.run([*command, "--", v.options["device"], path],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise EngineError(f"error while mounting volume '{path}': failed to mount "
                              f"local volume: {done.stderr.strip()}")

    def _unmount_quietly(self, name: str) -> None:
        path = self.data_path(name)
        while is_mount_point(path):
            if subprocess.run(["umount", "--", path], capture_output=True).returncode:
                subprocess.run(["umount", "-l", "--", path], capture_output=True)
                break


def unescape(field: str) -> str:
    """A path of /proc/self/mountinfo: the kernel writes space, tab, newline and
    backslash as octal escapes (\\040...); everything else as it is."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def is_mount_point(path: str) -> bool:
    """Whether something is mounted on `path` (by /proc/self/mountinfo, which, unlike
    comparing st_dev, sees a bind of a directory onto its own filesystem too)."""
    real = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = unescape(line.split()[4])
                if point == real:
                    return True
    except OSError:
        return False
    return False
