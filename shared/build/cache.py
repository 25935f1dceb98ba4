"""The classic builder's cache: which image a step made, from which parent and config.

moby finds a cached step by looking among the parent image's children for one whose
container_config equals the step's (image/cache). Here the same key, the parent's ID
and the step's container config, is kept in one small index beside the image store,
<images root>/build-cache.json; an entry whose image was removed is a miss.
`docker builder prune` empties it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator

from shared.images.store import Image, ImageNotFound, ImageStore


def cache_key(parent: str, container_config: dict) -> str:
    text = json.dumps({"parent": parent, "config": container_config}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class BuildCache:
    def __init__(self, store: ImageStore) -> None:
        self.store = store
        self.path = os.path.join(store.root, "build-cache.json")

    def _read(self) -> dict[str, str]:
        try:
            with open(self.path) as f:
                data = json.load(f)
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @contextlib.contextmanager
    def _update(self) -> Iterator[dict[str, str]]:
        with open(os.path.join(self.store.locks, "build-cache.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._read()
            yield data
            fd, tmp = tempfile.mkstemp(dir=self.store.root, prefix=".build-cache-")
            with os.fdopen(fd, "w") as out:
                json.dump(data, out)
            os.replace(tmp, self.path)

    def lookup(self, parent: str, container_config: dict) -> Image | None:
        image_id = self._read().get(cache_key(parent, container_config))
        if image_id is None:
            return None
        try:
            return self.store.get(image_id)
        except ImageNotFound:
            return None

    def record(self, parent: str, container_config: dict, image: Image) -> None:
        with self._update() as data:
            data[cache_key(parent, container_config)] = image.id

    def prune(self) -> list[str]:
        """Forget every entry; return the image IDs they named."""
        with self._update() as data:
            gone = sorted(set(data.values()))
            data.clear()
        return gone
