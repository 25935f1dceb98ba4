"""`docker commit`: a container's changes made into an image.

moby's daemon/commit.go: the container is frozen (pause, unless asked not to) while its
upper dir is read, so that no half-written file lands in the layer; the new image's
config is the container's, with the `--change` instructions applied over it
(config-only Dockerfile instructions) and the container's config filling what they
leave unset (moby's merge); its history gains one entry, created_by the container's
command. Bad changes or a bad name are refused before anything is read or stored.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from shared.daemon.state import Container
from shared.errors import Conflict, InvalidParameter
from shared.images import layerdiff, reference
from shared.images.childimage import make_child
from shared.images.store import Image, ImageStore

if TYPE_CHECKING:
    from shared.daemon.engine import Engine

# A --change: (the config to change, one instruction's text) -> the config changed.
ChangeApplier = Callable[[dict, str], None]


def merge(user: dict, image: dict) -> dict:
    """moby's merge(): fill what the new config leaves unset from the container's."""
    user.setdefault("User", "")
    if not user["User"]:
        user["User"] = image.get("User", "")
    if not user.get("ExposedPorts"):
        user["ExposedPorts"] = image.get("ExposedPorts")
    elif image.get("ExposedPorts"):
        for port in image["ExposedPorts"]:
            user["ExposedPorts"].setdefault(port, {})
    if not user.get("Env"):
        user["Env"] = image.get("Env")
    else:
        keys = {e.partition("=")[0] for e in user["Env"]}
        user["Env"] = user["Env"] + [e for e in image.get("Env") or []
                                     if e.partition("=")[0] not in keys]
    labels = user.get("Labels") or {}
    for key, value in (image.get("Labels") or {}).items():
        labels.setdefault(key, value)
    user["Labels"] = labels
    if not user.get("Entrypoint"):
        if not user.get("Cmd"):
            user["Cmd"] = image.get("Cmd")
        if user.get("Entrypoint") is None:
            user["Entrypoint"] = image.get("Entrypoint")
    if image.get("Healthcheck") and not user.get("Healthcheck"):
        user["Healthcheck"] = image["Healthcheck"]
    if not user.get("WorkingDir"):
        user["WorkingDir"] = image.get("WorkingDir", "")
    if not user.get("Volumes"):
        user["Volumes"] = image.get("Volumes")
    else:
        user["Volumes"].update(image.get("Volumes") or {})
    if not user.get("StopSignal") and image.get("StopSignal"):
        user["StopSignal"] = image["StopSignal"]
    return user


def take_layer(store: ImageStore, upper: str, lowers: list[str]) -> str | None:
    """The upper dir as a layer blob in the store; None when it holds no change."""
    fd, tmp = tempfile.mkstemp(dir=store.tmp, prefix="layer-")
    try:
        with os.fdopen(fd, "wb") as out:
            entries = layerdiff.write_layer(upper, out, lowers)
        if entries == 0:
            return None
        return store.put_blob(tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def commit_container(
    engine: Engine,
    c: Container,
    *,
    apply_change: ChangeApplier,
    changes: Sequence[str] = (),
    config: dict | None = None,
    tag: str | None = None,
    author: str = "",
    comment: str = "",
    pause: bool = True,
    created_by: str | None = None,
) -> Image:
    """Make an image of the container `c`'s filesystem changes; tag it if asked."""
    if engine.is_removed(c):
        raise Conflict(f"You cannot commit container {c.id} which is being removed")
    new_config = copy.deepcopy(config or c.config)
    for change in changes:  # InvalidParameter (400) before anything is read
        apply_change(new_config, change)
    new_config = merge(new_config, c.config)
    parent = engine.images.get(c.image_id)
    lowers = engine.images.layer_dirs(parent)
    upper = os.path.join(engine.containers.dir(c.id), "upper")
    if created_by is None:
        created_by = " ".join(c.config.get("Cmd") or [])
    frozen = False
    if pause and c.state.running and c.state.status != "paused":
        engine.pause(c.id)
        frozen = True
    try:
        layer = take_layer(engine.images, upper, lowers)
        image = make_child(engine.images, parent, layer, new_config,
                           container_config=c.config, container_id=c.id, author=author,
                           comment=comment, created_by=created_by,
                           tags=[tag] if tag else [])
        # moby logs the commit before its deferred unpause
        name = reference.parse(tag).familiar_string() if tag else ""
        engine.events.container(c, "commit", comment=comment, imageID=image.id,
                                imageRef=name)
    finally:
        if frozen:
            with contextlib.suppress(Exception):
                engine.unpause(c.id)
    return image

def check_change_text(changes: Sequence[str], apply_change: ChangeApplier) -> None:
    """Refuse bad --change lines (400) without a container: they apply to a scratch
    config."""
    scratch: dict = {}
    for change in changes:
        try:
            apply_change(scratch, change)
        except (ValueError, KeyError) as e:
            raise InvalidParameter(str(e)) from None
