"""Pulls that go wrong leave the store as it was: a truncated download, a registry
that serves other bytes than the digest names, a kill in the middle; and two pulls
of one image at once. The misbehaving registry is a FAKE (tests/registry.py:
FakeRegistry), since no honest registry misbehaves on cue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from shared.errors import EngineError
from shared.images.registry import progress
from shared.images.registry.auth import Credentials
from shared.images.registry.pull import Pull
from shared.images.store import OCI_MANIFEST, ImageStore, InvalidImage
from tests.engines import repo_env
from tests.images import tarballs
from tests.registry import FakeRegistry, wait_for


def make_image(size: int = 300_000) -> tuple[bytes, list[bytes]]:
    """(manifest, [config, layer blob]) with an incompressible file of `size` bytes."""
    layer = tarballs.layer(tarballs.Entry("data", data=os.urandom(size)))
    manifest, config, blobs = tarballs.image(layer)
    return manifest, [config, blobs[0].getvalue()]


def files(store: ImageStore) -> set[str]:
    """Everything in the store but its lock files (which are empty, and harmless)."""
    found = set()
    for directory, _dirs, names in os.walk(store.root):
        if os.path.basename(directory) != "locks":
            found |= {os.path.relpath(os.path.join(directory, n), store.root) for n in names}
    return found


def do_pull(store: ImageStore, ref: str):
    return Pull(store, ref, Credentials()).run(progress.Reporter(lambda m: None))


@pytest.fixture
def fake():
    manifest, blobs = make_image()
    registry = FakeRegistry()
    registry.add_image("wb/x", "v1", manifest, OCI_MANIFEST, blobs)
    with registry.running():
        registry.layer = tarballs.digest(blobs[1])  # type: ignore[attr-defined]
        yield registry


@pytest.mark.parametrize("how, error", [("truncate", "download truncated"),
                                        ("corrupt", "digest mismatch")])
def test_a_bad_download_changes_nothing(tmp_path, fake, how, error):
    store = ImageStore(str(tmp_path / "store"))
    before = files(store)
    fake.tamper[fake.layer] = how
    with pytest.raises((EngineError, InvalidImage), match=error):
        do_pull(store, f"{fake.host}/wb/x:v1")
    assert files(store) == before  # no half blob, no temp file, no images.json entry
    assert store.list() == []
    del fake.tamper[fake.layer]  # the registry mends its ways: the next pull works
    assert do_pull(store, f"{fake.host}/wb/x:v1").repo_tags == [f"{fake.host}/wb/x:v1"]


def test_a_manifest_that_is_not_its_digest_is_refused(tmp_path, fake):
    manifest, _ = fake.manifests["wb/x:v1"]
    other, blobs = make_image(1000)
    fake.add_image("wb/x", "v2", other, OCI_MANIFEST, blobs)
    digest = tarballs.digest(manifest)
    fake.manifests[f"wb/x:{digest}"] = (other, OCI_MANIFEST)  # asked one, serves another
    store = ImageStore(str(tmp_path / "store"))
    with pytest.raises(InvalidImage, match="digest mismatch"):
        do_pull(store, f"{fake.host}/wb/x@{digest}")
    assert store.list() == []


def test_a_kill_mid_pull_leaves_the_store_consistent(tmp_path, fake):
    fake.tamper[fake.layer] = "slow"
    store = ImageStore(str(tmp_path / "store"))
    script = ("import sys; from tests.images.test_pull_failures import do_pull;"
              "from shared.images.store import ImageStore;"
              "do_pull(ImageStore(sys.argv[1]), sys.argv[2])")
    child = subprocess.Popen([sys.executable, "-c", script, store.root, f"{fake.host}/wb/x:v1"],
                             env=repo_env(), stderr=subprocess.PIPE)
    try:
        # Wait until part of the layer is on disk, under a temporary name.
        wait_for(lambda: any(os.path.getsize(os.path.join(store.tmp, n)) > 10_000
                             for n in os.listdir(store.tmp)), timeout=20)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not store.has_blob(fake.layer)
    assert store.list() == []
    del fake.tamper[fake.layer]
    image = do_pull(store, f"{fake.host}/wb/x:v1")
    assert store.has_blob(fake.layer) and image.repo_tags == [f"{fake.host}/wb/x:v1"]


def test_two_pulls_at_once_are_safe(tmp_path, fake):
    fake.tamper[fake.layer] = "slow"
    store = ImageStore(str(tmp_path / "store"))
    results: list[object] = []

    def one() -> None:
        try:
            results.append(do_pull(store, f"{fake.host}/wb/x:v1").id)
        except Exception as error:  # reported below
            results.append(error)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2 and results[0] == results[1], results
    assert len(store.list()) == 1
    # One download: the second pull waited for the first and found the blob stored.
    assert fake.served.count(f"/v2/wb/x/blobs/{fake.layer}") == 1
    assert os.listdir(store.tmp) == []
