"""The image store on a temporary root: names, IDs, tags, deletion, crash safety.

Real files and real locks; the only stand-in is the `in_use` callback, a lambda in
place of the daemon's container records."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import threading

import pytest

from shared.images import reference
from shared.images.store import (
    ImageConflict,
    ImageNotFound,
    ImageStore,
    InvalidImage,
    chain_ids,
    to_inspect,
    to_summary,
)
from tests.images.tarballs import Entry, digest, image, layer

BASE = layer(Entry("bin", "dir", mode=0o755), Entry("bin/hello", data=b"hello\n", mode=0o755))
TOP = layer(Entry("etc", "dir", mode=0o755), Entry("etc/motd", data=b"hi there\n"))


@pytest.fixture
def store(tmp_path) -> ImageStore:
    return ImageStore(str(tmp_path / "images"))


def add(store: ImageStore, *layers: bytes, tags=("app:1",), cmd="sh"):
    manifest, config, blobs = image(*(layers or (BASE,)), cmd=cmd)
    return store.add_image(manifest, config, blobs, tags=list(tags))


def files_under(path) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), path) for d, _, fs in os.walk(path) for f in fs}


def test_add_and_resolve_every_way(store):
    img = add(store, BASE, TOP, tags=["app:1", "localhost:5000/x/y:t"])
    hexid = img.id.removeprefix("sha256:")
    assert img.id == digest(store.read_blob(img.id))  # image ID = config digest
    assert img.repo_tags == ["app:1", "localhost:5000/x/y:t"]
    assert img.size == len(b"hello\n") + len(b"hi there\n")
    assert img.created == 1577934245 and img.config["config"]["Cmd"] == ["sh"]
    assert img.layers == [digest(BASE), digest(TOP)]
    for ref in (
        "app:1",
        "docker.io/library/app:1",
        "localhost:5000/x/y:t",
        img.id,
        hexid,
        hexid[:12],
        hexid[:3],
        "sha256:" + hexid[:12],
    ):
        assert store.resolve(ref).id == img.id, ref
    store.tag(img, f"app@{img.manifest_digest}")
    assert store.resolve(f"app@{img.manifest_digest}").id == img.id
    assert store.resolve("app:1").repo_digests == [f"app@{img.manifest_digest}"]


def test_not_found_messages(store):
    add(store)
    cases = {
        "busybox": "No such image: busybox:latest",
        "busybox:1.36": "No such image: busybox:1.36",
        "localhost:5000/x": "No such image: localhost:5000/x:latest",
        "f" * 64: "No such image: sha256:" + "f" * 64,
        "app:2": "No such image: app:2",
    }
    for ref, message in cases.items():
        with pytest.raises(ImageNotFound) as err:
            store.resolve(ref)
        assert str(err.value) == message and err.value.status == 404
    with pytest.raises(ValueError, match="invalid reference format"):
        store.resolve("Not:A:Name")


def test_summary_and_inspect(store):
    img = add(store)
    summary = to_summary(img)
    assert summary["RepoTags"] == ["app:1"] and summary["Created"] == 1577934245
    assert summary["SharedSize"] == -1 and summary["Containers"] == -1
    inspect = to_inspect(img)
    assert inspect["Config"]["Cmd"] == ["sh"] and inspect["Config"]["Entrypoint"] is None
    assert inspect["RootFS"] == {"Type": "layers", "Layers": img.layers}
    assert inspect["Created"] == "2020-01-02T03:04:05.123456789Z"
    json.dumps(inspect)  # plain JSON all the way down


def test_tag_moves_and_untag(store):
    one = add(store, BASE, tags=["app:1"])
    two = add(store, TOP, tags=["app:2"])
    store.tag(one, "app:latest")
    store.tag("app:2", "app:latest")  # moves the name, as `docker tag` does
    assert store.resolve("app").id == two.id
    assert store.resolve(one.id).repo_tags == ["app:1"]
    assert store.untag("app") == "app:latest"
    with pytest.raises(ImageNotFound):
        store.untag("app")
    with pytest.raises(ValueError, match="digest reference"):
        store.tag(one, f"app@{two.manifest_digest}")


def test_delete_one_of_two_tags_only_untags(store):
    img = add(store, tags=["app:1", "app:2"])
    assert store.delete("app:1") == [{"Untagged": "app:1"}]
    assert store.resolve(img.id).repo_tags == ["app:2"]


def test_delete_last_tag_deletes_image_and_files(store):
    img = add(store, BASE, TOP)
    store.layer_dirs(img)
    records = store.delete("app:1")
    chains = chain_ids(img.layers)
    assert records == [{"Untagged": "app:1"}, {"Deleted": img.id}] + [
        {"Deleted": c} for c in chains
    ]
    assert store.list() == []
    assert files_under(store.blobs) == set() and os.listdir(store.layers) == []


def test_delete_keeps_what_another_image_shares(store):
    base = add(store, BASE, tags=["base:1"])
    app = add(store, BASE, TOP, tags=["app:1"])
    store.layer_dirs(app)
    assert store.delete("app:1")[-1] == {"Deleted": chain_ids(app.layers)[1]}
    assert store.layer_dirs(store.resolve("base:1")) == [
        os.path.join(store.layers, base.layers[0].removeprefix("sha256:"))
    ]


def test_delete_conflicts_with_container(store):
    img = add(store)
    cid = "c0ffee" * 10 + "abcd"
    with pytest.raises(ImageConflict) as err:
        store.delete("app:1", in_use=lambda image_id: cid)
    assert str(err.value) == (
        'conflict: unable to remove repository reference "app:1" (must force) - '
        f"container {cid[:12]} is using its referenced image {img.short_id}"
    )
    assert err.value.status == 409 and store.resolve("app:1").id == img.id
    with pytest.raises(
        ImageConflict,
        match=f"unable to delete {img.short_id} .must be forced. - "
        f"image is being used by stopped container {cid[:12]}",
    ):
        store.delete(img.short_id, in_use=lambda image_id: cid)
    # Forced: the name goes, the image stays for the container (see store.delete).
    assert store.delete("app:1", force=True, in_use=lambda i: cid) == [{"Untagged": "app:1"}]
    assert store.resolve(img.id).repo_tags == []


def test_delete_by_id(store):
    img = add(store, tags=["app:1", "other:1"])
    with pytest.raises(ImageConflict, match="referenced in multiple repositories"):
        store.delete(img.short_id)
    records = store.delete(img.short_id, force=True)
    assert {"Untagged": "app:1"} in records and {"Untagged": "other:1"} in records
    assert {"Deleted": img.id} in records
    single = add(store, tags=["app:1"])
    assert store.delete(single.id)[:2] == [{"Untagged": "app:1"}, {"Deleted": single.id}]


def test_bad_digests_leave_nothing(store):
    manifest, config, blobs = image(BASE)
    with pytest.raises(InvalidImage, match="digest mismatch"):
        store.add_image(manifest, config, [io.BytesIO(b"not the layer")], tags=["app:1"])
    wrong_diff_id = config.replace(digest(BASE).encode(), digest(b"x").encode())
    with pytest.raises(InvalidImage):
        store.add_image(manifest, wrong_diff_id, blobs, tags=["app:1"])
    assert store.list() == [] and os.listdir(store.tmp) == []


def test_interrupted_blob_write_leaves_no_blob(store):
    class Broken(io.BytesIO):
        def read(self, n=-1):
            if self.tell() > 0:
                raise OSError("connection reset")
            return super().read(4)

    with pytest.raises(OSError, match="connection reset"):
        store.put_blob(Broken(b"some bytes"), digest(b"some bytes"))
    assert os.listdir(store.blobs) == [] and os.listdir(store.tmp) == []


def _tag_many(root: str, image_id: str, prefix: str) -> None:
    store = ImageStore(root)
    for n in range(20):
        store.tag(image_id, f"{prefix}:{n}")


def test_concurrent_tags_from_threads_and_processes(store):
    img = add(store)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_tag_many, args=(store.root, img.id, f"p{i}")) for i in range(3)]
    threads = [
        threading.Thread(target=_tag_many, args=(store.root, img.id, f"t{i}")) for i in range(3)
    ]
    for worker in procs + threads:
        worker.start()
    for worker in procs + threads:
        worker.join()
    assert all(p.exitcode == 0 for p in procs)
    assert len(store.resolve(img.id).repo_tags) == 1 + 6 * 20


def test_layer_dirs_unpacks_once_under_concurrency(store):
    img = add(store, BASE, TOP)
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.layer_dirs(img))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r == results[0] for r in results)
    assert sorted(os.listdir(store.layers)) == sorted(os.path.basename(d) for d in results[0])
    with open(os.path.join(results[0][0], "bin/hello")) as f:
        assert f.read() == "hello\n"


def test_names_are_stored_normalized(store):
    add(store, tags=["app"])
    with open(store.index_path) as f:
        refs = json.load(f)["refs"]
    assert list(refs) == [str(reference.parse("app"))] == ["docker.io/library/app:latest"]
