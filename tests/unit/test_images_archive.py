"""save/load between temporary stores, and hand-made archives in each format."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from shared.images import archive
from shared.images.store import ImageNotFound, ImageStore, InvalidImage
from tests.images.tarballs import Entry, digest, image, layer

BASE = layer(Entry("bin", "dir", mode=0o755), Entry("bin/hello", data=b"hello\n"))
TOP = layer(Entry("etc", "dir", mode=0o755), Entry("etc/motd", data=b"hi\n"))


class Pipe(io.RawIOBase):
    """A stream that cannot seek, like an HTTP request body."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def add(store, *layers, tags):
    manifest, config, blobs = image(*layers, cmd=str(tags))
    return store.add_image(manifest, config, blobs, tags=tags)


def tar_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}


def test_roundtrip_both_forms(tmp_path):
    source = ImageStore(str(tmp_path / "a"))
    one = add(source, BASE, TOP, tags=["app:1", "app:2"])
    other = add(source, BASE, tags=["other:1"])
    out = io.BytesIO()
    archive.save(source, ["app", other.short_id], out)  # every app tag; other by ID
    members = tar_members(out.getvalue())

    assert json.loads(members["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(members["index.json"])
    names = [m.get("annotations", {}).get(archive.NAME_ANNOTATION) for m in index["manifests"]]
    assert sorted(map(str, names)) == [
        "None",
        "docker.io/library/app:1",
        "docker.io/library/app:2",
    ]
    manifest_json = json.loads(members["manifest.json"])
    assert sorted(map(str, [e["RepoTags"] for e in manifest_json])) == [
        "None",
        "['app:1', 'app:2']",
    ]
    for entry in manifest_json:  # docker-archive paths point into the OCI blobs
        for path in [entry["Config"], *entry["Layers"]]:
            assert digest(members[path]) == "sha256:" + path.rsplit("/", 1)[1]

    target = ImageStore(str(tmp_path / "b"))
    loaded = archive.load(target, Pipe(out.getvalue()))
    assert sorted(loaded) == ["app:1", "app:2", other.id]
    assert target.resolve("app:2").id == one.id
    assert target.resolve(other.id).manifest_digest == other.manifest_digest


def test_save_unknown_names(tmp_path):
    store = ImageStore(str(tmp_path / "s"))
    with pytest.raises(ImageNotFound, match="No such image: nothere:latest"):
        archive.save(store, ["nothere"], io.BytesIO())


def docker_2010_archive(tags) -> tuple[bytes, str]:
    """A docker-archive laid out as Docker 20.10's `docker save`: <id>.json,
    <layer>/layer.tar, the second image's shared layer a symlink to the first's."""
    _, config, _ = image(BASE, TOP)
    _, config2, _ = image(BASE, cmd="other")
    image_id = digest(config)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:

        def put(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        put(image_id[7:] + ".json", config)
        put(digest(config2)[7:] + ".json", config2)
        put("l1/layer.tar", BASE)
        put("l2/layer.tar", TOP)
        link = tarfile.TarInfo("l3/layer.tar")
        link.type, link.linkname = tarfile.SYMTYPE, "../l1/layer.tar"
        tar.addfile(link)
        manifest = [
            {
                "Config": image_id[7:] + ".json",
                "RepoTags": tags,
                "Layers": ["l1/layer.tar", "l2/layer.tar"],
            },
            {"Config": digest(config2)[7:] + ".json", "RepoTags": None, "Layers": ["l3/layer.tar"]},
        ]
        put("manifest.json", json.dumps(manifest).encode())
    return out.getvalue(), image_id


def test_load_docker_2010_archive(tmp_path):
    data, image_id = docker_2010_archive(["app:1"])
    store = ImageStore(str(tmp_path / "s"))
    loaded = archive.load(store, io.BytesIO(data))
    assert loaded[0] == "app:1" and loaded[1].startswith("sha256:")
    img = store.resolve("app:1")
    assert img.id == image_id and len(img.layers) == 2
    assert store.manifest(img)["layers"][0]["mediaType"] == archive.OCI_LAYER


def test_load_gzipped_archive_and_bare_oci_ref_names(tmp_path):
    source = ImageStore(str(tmp_path / "a"))
    add(source, BASE, tags=["app:1"])
    out = io.BytesIO()
    archive.save(source, ["app:1"], out)
    # As skopeo writes it: no containerd name, the whole name in the OCI ref.name.
    members = tar_members(out.getvalue())
    index = json.loads(members["index.json"])
    index["manifests"][0]["annotations"] = {archive.REF_ANNOTATION: "localhost/x:9"}
    members["index.json"] = json.dumps(index).encode()
    del members["manifest.json"]
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    target = ImageStore(str(tmp_path / "b"))
    assert archive.load(target, io.BytesIO(packed.getvalue())) == ["localhost/x:9"]


def test_load_refuses_what_is_not_an_image(tmp_path):
    store = ImageStore(str(tmp_path / "s"))
    with pytest.raises(InvalidImage, match="neither index.json nor manifest.json"):
        archive.load(store, io.BytesIO(layer(Entry("hello", data=b"x"))))
