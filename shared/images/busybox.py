"""`busybox:latest` made on this machine, from Debian's static busybox, with no registry.

A static busybox is one executable that is a whole userland: `sh`, `ls`, `ps`... are
symlinks to it and it looks at the name it was run as. One binary and a few files in
/etc make an image that runs every example in the docs, offline.

The image is reproducible: fixed owners and mtimes, entries in sorted order, gzip with
no timestamp or file name. So the same busybox binary gives the same layer, the same
config and the same image ID on every machine and every run.

    python -m shared.images.busybox --root DIR [--save FILE.tar]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile

from shared.images.store import (
    DEFAULT_ROOT,
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Image,
    ImageNotFound,
    ImageStore,
    host_architecture,
)

BUSYBOX = "/bin/busybox"
TAG = "busybox:latest"
PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Every file gets this mtime and the config this date (March 2013, when Docker 0.1 came
# out): a clock in the build would make each build a different image.
EPOCH = 1362096000
CREATED = "2013-03-01T00:00:00Z"

# The accounts most images have; `docker run -u nobody` needs nobody (65534).
PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:8:
www-data:x:33:
operator:x:37:
users:x:100:
nogroup:x:65534:
"""
# Directories and their modes. /tmp is world-writable with the sticky bit (1777): anyone
# may create files there, only their owner may delete them. /proc, /sys and /dev are
# empty mount points the runtime fills.
DIRECTORIES = {
    "bin": 0o755,
    "dev": 0o755,
    "etc": 0o755,
    "home": 0o755,
    "proc": 0o555,
    "root": 0o700,
    "sbin": 0o755,
    "sys": 0o555,
    "tmp": 0o1777,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "var": 0o755,
    "var/spool": 0o755,
    "var/spool/mail": 0o755,
    "var/www": 0o755,
}


def rootfs_layer(busybox: str = BUSYBOX) -> bytes:
    """The uncompressed tar of the image's only layer."""
    applets = subprocess.run(
        [busybox, "--list-full"], check=True, capture_output=True, text=True
    ).stdout.split()
    with open(busybox, "rb") as f:
        binary = f.read()

    entries: dict[str, tarfile.TarInfo] = {}
    data: dict[str, bytes] = {}

    def add(name: str, kind: bytes, mode: int, content: bytes = b"", link: str = "") -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime, info.linkname = kind, mode, EPOCH, link
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.size = len(content)
        entries[name], data[name] = info, content

    for directory, mode in DIRECTORIES.items():
        add(directory, tarfile.DIRTYPE, mode)
    add("bin/busybox", tarfile.REGTYPE, 0o755, binary)
    add("etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode())
    add("etc/group", tarfile.REGTYPE, 0o644, GROUP.encode())
    for applet in applets:
        if applet != "bin/busybox":
            add(applet, tarfile.SYMTYPE, 0o777, link="/bin/busybox")
            parent = applet.rpartition("/")[0]
            while parent and parent not in entries:
                add(parent, tarfile.DIRTYPE, 0o755)
                parent = parent.rpartition("/")[0]

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):  # parents sort before their children
            content = data[name]
            tar.addfile(entries[name], io.BytesIO(content) if content else None)
    return out.getvalue()


def build_busybox(store: ImageStore, busybox: str = BUSYBOX, tag: str = TAG) -> Image:
    """Build the image and add it to the store, tagged busybox:latest."""
    layer = rootfs_layer(busybox)
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0, filename="") as gz:
        gz.write(layer)
    layer_gz = compressed.getvalue()
    usage = subprocess.run([busybox], capture_output=True, text=True).stdout
    version = usage.split(" multi-call")[0]  # "BusyBox v1.35.0 (Debian 1:1.35.0-4...)"

    config = {
        "architecture": host_architecture(),
        "os": "linux",
        "created": CREATED,
        "config": {"Env": [PATH], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [_digest(layer)]},
        "history": [
            {"created": CREATED, "created_by": f"whalebones: {busybox} ({version.strip()})"}
        ],
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": _digest(config_bytes),
            "size": len(config_bytes),
        },
        "layers": [
            {"mediaType": OCI_LAYER_GZIP, "digest": _digest(layer_gz), "size": len(layer_gz)}
        ],
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    return store.add_image(manifest_bytes, config_bytes, [io.BytesIO(layer_gz)], tags=[tag])


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build busybox:latest from /bin/busybox.")
    parser.add_argument("--root", default=DEFAULT_ROOT, help="image store directory")
    parser.add_argument("--save", metavar="FILE.tar", help="also write it as an image archive")
    parser.add_argument("--busybox", default=BUSYBOX, help="the static busybox binary")
    args = parser.parse_args(argv)
    store = ImageStore(args.root)
    try:
        image = store.resolve(TAG)
    except ImageNotFound:
        image = build_busybox(store, args.busybox)
    if args.save:
        from shared.images import archive

        with open(args.save, "wb") as out:
            archive.save(store, [TAG], out)
    print(image.id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
