"""Container records: what the daemon remembers about each container, on disk.

One directory per container under `<root>/<stage>/containers/<id>/` holds
`config.v2.json` (this record, as Docker names its file), the json-file log and the
overlay's upper and work dirs. Records are written to a temp file and renamed, so a
daemon killed mid-write leaves the old record or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field

from shared.daemon import names
from shared.errors import Conflict, InvalidParameter, NoSuchContainer
from shared.privatedirs import make_private_dir, private_file

ZERO_TIME = "0001-01-01T00:00:00Z"
VALID_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+\Z")


def rfc3339(ts: float | None) -> str:
    """Docker's timestamps: RFC 3339 in UTC with nanoseconds."""
    if not ts:
        return ZERO_TIME
    whole = int(ts)
    nanos = int(round((ts - whole) * 1e9))
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{nanos:09d}Z"


@dataclass
class State:
    # created | running | paused | restarting | exited; "starting" too, in memory only,
    # while a start is on its way. "restarting": it exited and its restart policy will
    # start it again after the back-off (restartpolicy.py). (Docker also has removing
    # and dead: no era sets them yet.)
    status: str = "created"
    pid: int = 0
    exit_code: int = 0
    oom_killed: bool = False
    error: str = ""
    started_at: float = 0.0
    finished_at: float = 0.0

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused")


@dataclass
class Container:
    id: str
    name: str  # without the leading "/"
    created: float
    image_ref: str  # as the user gave it: `docker ps` shows this
    image_id: str
    config: dict  # the Engine API's Config, with the image's defaults merged in
    host_config: dict
    path: str
    args: list[str]
    state: State = field(default_factory=State)
    restart_count: int = 0
    # A `docker stop` or `docker kill` ended it (not the daemon's shutdown): an
    # unless-stopped container stays down, even across a daemon restart.
    manually_stopped: bool = False
    execs: list[str] = field(default_factory=list)
    # network name -> its EndpointSettings as asked for (Aliases, IPAMConfig): the
    # networks the container is on, whether it runs or not
    networks: dict = field(default_factory=dict)
    # its binds, volumes and --mount tmpfs, decided at create (shared/volumes)
    mount_points: list = field(default_factory=list)
    # State.Health while a health check is configured and has run (health.py):
    # {"Status", "FailingStreak", "Log": [{"Start", "End", "ExitCode", "Output"}]}
    health: dict | None = None

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Container:
        data = dict(data)
        data["state"] = State(**data.get("state", {}))
        return cls(**data)


class ContainerStore:
    """The containers one daemon knows, indexed by id and by name, persisted per dir."""

    RECORD = "config.v2.json"

    def __init__(self, root: str) -> None:
        self.root = root
        make_private_dir(root)  # each container's env is in its record: privatedirs.py
        self._lock = threading.RLock()
        self._by_id: dict[str, Container] = {}
        for cid in os.listdir(root):
            path = os.path.join(root, cid, self.RECORD)
            try:
                with open(path) as f:
                    self._by_id[cid] = Container.from_json(json.load(f))
            except (FileNotFoundError, json.JSONDecodeError, TypeError):
                # A container whose record was never completely written never existed
                # for the user: `create` writes the record last.
                continue

    def dir(self, cid: str) -> str:
        return os.path.join(self.root, cid)

    def all(self) -> list[Container]:
        with self._lock:
            return sorted(self._by_id.values(), key=lambda c: c.created, reverse=True)

    def save(self, c: Container) -> None:
        d = self.dir(c.id)
        make_private_dir(d)
        tmp = os.path.join(d, f".{self.RECORD}.{threading.get_ident()}")
        with private_file(tmp) as f:  # root's alone: it holds the env
            json.dump(c.to_json(), f)
            # On disk before the rename makes it the record: after a power cut the
            # record is the old one or the new one, never an empty file (as dockerd's
            # AtomicWriteFile).
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(d, self.RECORD))

    def new_id(self) -> str:
        while True:
            cid = secrets.token_hex(32)
            # Docker never hands out an id whose short form is all digits: it would
            # read as a number in places (and a PID in others).
            if not cid[:12].isdigit() and cid not in self._by_id:
                return cid

    def reserve_name(self, name: str | None, cid: str) -> str:
        """Check the name and take it atomically (two creates can't both win)."""
        with self._lock:
            if not name:
                taken = {c.name for c in self._by_id.values()}
                return names.generate(taken)
            if not VALID_NAME.match(name):
                raise InvalidParameter(
                    f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                    "are allowed"
                )
            name = name.lstrip("/")
            self._check_free(name)
            return name

    def _check_free(self, name: str) -> None:
        for other in self._by_id.values():
            if other.name == name:
                raise Conflict(
                    f'Conflict. The container name "/{name}" is already in use by '
                    f'container "{other.id}". You have to remove (or rename) that '
                    "container to be able to reuse that name."
                )

    def rename(self, c: Container, new: str) -> str:
        """moby's ContainerRename: the new name checked and taken atomically, the record
        saved; the old name. (Its errors read as moby's, "Error when allocating new
        name: ..." around the name index's own.)"""
        with self._lock:
            if not VALID_NAME.match(new):
                raise InvalidParameter(
                    f"Error when allocating new name: Invalid container name (/{new.lstrip('/')}),"
                    " only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )
            new = new.lstrip("/")
            try:
                self._check_free(new)
            except Conflict as e:
                raise Conflict(f"Error when allocating new name: {e}") from None
            old, c.name = c.name, new
            try:
                self.save(c)
            except BaseException:
                c.name = old
                raise
            return old

    def add(self, c: Container) -> None:
        with self._lock:
            self.save(c)
            self._by_id[c.id] = c

    def forget(self, cid: str) -> None:
        with self._lock:
            self._by_id.pop(cid, None)

    def get(self, ref: str) -> Container:
        """Docker's lookup order: full id, then exact name, then unique id prefix."""
        with self._lock:
            if ref in self._by_id:
                return self._by_id[ref]
            name = ref.lstrip("/")
            for c in self._by_id.values():
                if c.name == name:
                    return c
            if ref and re.fullmatch(r"[0-9a-f]+", ref):
                found = [c for c in self._by_id.values() if c.id.startswith(ref)]
                if len(found) == 1:
                    return found[0]
                if len(found) > 1:
                    raise InvalidParameter(f"multiple IDs found with provided prefix: {ref}")
        raise NoSuchContainer(ref)
