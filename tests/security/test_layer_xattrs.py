"""A layer must not forge overlayfs's own metadata.

Overlayfs reads `trusted.overlay.*` xattrs from its layer dirs: `opaque=y` hides every
layer below a directory, `redirect=/path` shows another directory's lower contents. A
layer tar can carry any xattr in its PAX headers (`SCHILY.xattr.NAME`); the daemon
unpacks as root, which may write `trusted.*`. Docker with containerd's unpacker skips
that namespace, as we do (shared/images/unpack.py).
"""

from __future__ import annotations

import pytest

from tests.behaviour.clients import Clients
from tests.images.tarballs import Entry, layer
from tests.security.hostile import load

FORGED = pytest.mark.ours_only(
    reason="dockerd 20.10's overlay2 driver (pkg/archive) sets every xattr of a layer, "
           "trusted.overlay.* included; its containerd image store skips trusted.*")


@FORGED
def test_a_layer_cannot_make_a_directory_opaque(hostile: Clients) -> None:
    """An opaque /etc would hide the base layer's passwd (and any file below)."""
    image = load(hostile, "wb-hostile-xattr:opaque", layer(
        Entry("etc", "dir", mode=0o755, pax={"SCHILY.xattr.trusted.overlay.opaque": "y"}),
        Entry("etc/marker", data=b"from the hostile layer\n")))
    done = hostile.docker("run", "--rm", image, "cat", "/etc/marker", "/etc/passwd",
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert "from the hostile layer" in done.stdout
    assert "root:x:0:0" in done.stdout  # the layer below still shows through


@FORGED
def test_a_layer_cannot_redirect_a_directory(hostile: Clients) -> None:
    """/home redirected to /etc would show the lower /etc under /home."""
    image = load(hostile, "wb-hostile-xattr:redirect", layer(
        Entry("home", "dir", mode=0o755,
              pax={"SCHILY.xattr.trusted.overlay.redirect": "/etc"}),
        Entry("home/marker", data=b"mine\n")))
    done = hostile.docker("run", "--rm", image, "ls", "/home", timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["marker"]
