"""Small layer tars and images made in memory, for the image store's tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field

from shared.images.store import OCI_CONFIG, OCI_LAYER, OCI_LAYER_GZIP, OCI_MANIFEST


@dataclass
class Entry:
    """One tar entry: kind is file, dir, symlink, hardlink, char, block or fifo."""

    name: str
    kind: str = "file"
    data: bytes = b""
    link: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = 1_000_000_000
    major: int = 0
    minor: int = 0
    pax: dict[str, str] = field(default_factory=dict)


KINDS = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
}


def layer(*entries: Entry) -> bytes:
    """An uncompressed layer tar holding the entries, in order."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type, info.mode, info.uid, info.gid = KINDS[e.kind], e.mode, e.uid, e.gid
            info.mtime, info.linkname, info.size = e.mtime, e.link, len(e.data)
            info.devmajor, info.devminor = e.major, e.minor
            info.pax_headers = dict(e.pax)
            tar.addfile(info, io.BytesIO(e.data) if e.data else None)
    return out.getvalue()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image(
    *layers: bytes,
    gzipped: bool = True,
    cmd: str = "sh",
    created: str = "2020-01-02T03:04:05.123456789Z",
) -> tuple[bytes, bytes, list[io.BytesIO]]:
    """(manifest, config, layer blobs) of an image made of the given layer tars."""
    blobs = [gzip.compress(tar, mtime=0) if gzipped else tar for tar in layers]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": created,
            "config": {"Cmd": [cmd], "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [digest(tar) for tar in layers]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
            "layers": [
                {
                    "mediaType": OCI_LAYER_GZIP if gzipped else OCI_LAYER,
                    "digest": digest(blob),
                    "size": len(blob),
                }
                for blob in blobs
            ],
        }
    ).encode()
    return manifest, config, [io.BytesIO(blob) for blob in blobs]
