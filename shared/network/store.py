"""Networks on disk: one JSON record per network under <root>/<stage>/networks/.

A record holds what `docker network inspect` shows (name, driver, subnet, gateway,
options, labels) plus the IPAM allocations (address -> container id). Written to a
temp file and renamed, as container records are: a crash leaves the old or the new.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field


@dataclass
class Network:
    id: str
    name: str
    driver: str  # bridge | host | null
    created: float
    subnet: str = ""
    gateway: str = ""
    bridge: str = ""  # the Linux bridge's name
    internal: bool = False
    attachable: bool = False
    labels: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    allocations: dict = field(default_factory=dict)  # address -> container id

    @property
    def predefined(self) -> bool:
        return self.name in ("bridge", "host", "none")

    @property
    def user_defined(self) -> bool:
        return not self.predefined


class NetworkStore:
    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, mode=0o700, exist_ok=True)
        self.lock = threading.RLock()
        self.by_id: dict[str, Network] = {}
        for entry in os.listdir(root):
            if not entry.endswith(".json"):
                continue
            try:
                with open(os.path.join(root, entry)) as f:
                    net = Network(**json.load(f))
            except (OSError, ValueError, TypeError):
                continue
            self.by_id[net.id] = net

    def save(self, net: Network) -> None:
        with self.lock:
            path = os.path.join(self.root, f"{net.id}.json")
            tmp = f"{path}.{threading.get_ident()}.tmp"
            with open(tmp, "w") as f:
                json.dump(asdict(net), f)
                f.flush()
                os.fsync(f.fileno())  # on disk before the rename, as container records
            os.rename(tmp, path)
            self.by_id[net.id] = net

    def delete(self, net: Network) -> None:
        with self.lock:
            self.by_id.pop(net.id, None)
            try:
                os.unlink(os.path.join(self.root, f"{net.id}.json"))
            except FileNotFoundError:
                pass

    def all(self) -> list[Network]:
        with self.lock:
            return sorted(self.by_id.values(), key=lambda n: n.created)

    def find(self, ref: str) -> Network | None:
        """Docker's lookup: full id, then name, then unique id prefix."""
        with self.lock:
            if ref in self.by_id:
                return self.by_id[ref]
            for net in self.by_id.values():
                if net.name == ref:
                    return net
            found = [n for n in self.by_id.values() if ref and n.id.startswith(ref)]
            return found[0] if len(found) == 1 else None
