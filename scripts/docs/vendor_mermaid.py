"""Put mermaid.min.js into the docs, so that diagrams render without internet.

mkdocs-material draws ```mermaid blocks with mermaid.js, which it fetches from a CDN
unless the page has already loaded it. Workshop rooms (and CI) often have no internet,
so the site ships its own copy: `npm pack` takes the pinned release from the npm
registry, its checksum is verified, and dist/mermaid.min.js is copied to `dest`
(git-ignored: `make docs` fetches it when it is missing).

    python scripts/docs/vendor_mermaid.py VERSION SHA256 DEST
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


def fetch(version: str, sha256: str, dest: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="wb-mermaid-") as tmp:
        out = subprocess.run(["npm", "pack", f"mermaid@{version}", "--silent"], cwd=tmp,
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            sys.exit(f"npm pack mermaid@{version} failed:\n{out.stderr}")
        tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/dist/mermaid.min.js")
            if member is None:
                sys.exit(f"{tarball.name} has no package/dist/mermaid.min.js")
            data = member.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        sys.exit(f"mermaid {version}: dist/mermaid.min.js has sha256 {digest}, "
                 f"expected {sha256}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    print(f"mermaid {version} -> {dest} ({len(data) // 1024} KiB)")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    fetch(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
