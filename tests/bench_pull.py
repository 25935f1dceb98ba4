"""`make bench`, pull part: a ~50 MB image of 5 random layers from a local
docker-registry, pulled by our daemon, by a real dockerd and by `skopeo copy`.

Each contender pulls into an empty store, and the image is removed between runs (not
timed), so every run downloads all 50 MB. What each one does differs a little and the
table says so: dockerd also unpacks the layers during the pull; ours verifies each
layer's uncompressed digest but unpacks at first run; skopeo only copies the blobs
into an OCI layout directory.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from shared.images.store import OCI_MANIFEST
from tests.engines import DOCKER_CLI, repo_env, start_engine
from tests.images import tarballs
from tests.registry import start_registry, upload

LAYERS, LAYER_MB = 5, 10


def big_image(registry_url: str, repository: str) -> None:
    """Random (so incompressible) layers: the bytes on the wire are the image's size."""
    layer_tars = [tarballs.layer(tarballs.Entry(f"data{i}", data=os.urandom(LAYER_MB << 20)))
                  for i in range(LAYERS)]
    blobs = [gzip.compress(tar, compresslevel=1, mtime=0) for tar in layer_tars]
    manifest, config, _ = tarballs.image(*layer_tars)
    # tarballs.image gzips at level 9; use our level-1 blobs (same diff_ids) instead.
    parsed = json.loads(manifest)
    for descriptor, blob in zip(parsed["layers"], blobs, strict=True):
        descriptor.update(digest=tarballs.digest(blob), size=len(blob))
    manifest = json.dumps(parsed).encode()
    upload(registry_url, repository, [config, *blobs], manifest, "v1", OCI_MANIFEST)


def timed(pull: list[str], cleanup: list[str], runs: int, env: dict | None = None) -> float:
    """Median ms of `pull`, with `cleanup` (untimed) after each; one warm-up run."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        result = subprocess.run(pull, capture_output=True, env=env)
        elapsed = (time.perf_counter() - start) * 1000
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(pull)} exited {result.returncode}: "
                               f"{result.stderr.decode()}")
        subprocess.run(cleanup, capture_output=True, env=env, check=True)
        if i:
            times.append(elapsed)
    return statistics.median(times)


def bench_pull(stack: ExitStack, workdir: Path, runs: int
               ) -> tuple[dict[str, float], dict[str, str]]:
    results: dict[str, float] = {}
    notes: dict[str, str] = {}
    registry = stack.enter_context(start_registry())
    name = f"{registry.host}/bench/big:v1"
    big_image(registry.url, "bench/big")
    size = f"{LAYERS} x {LAYER_MB} MB layers"

    engine = stack.enter_context(start_engine("stage2"))
    ours = [sys.executable, "-m", "shared.client", "-H", engine.host]
    results["stage2 whalebones pull"] = timed([*ours, "pull", name], [*ours, "rmi", name],
                                              runs, repo_env())
    notes["stage2 whalebones pull"] = size + "; layers verified, unpacked at first run"

    if shutil.which("dockerd"):
        ref = stack.enter_context(start_engine("reference"))
        docker = [DOCKER_CLI, "-H", ref.host]
        results["docker pull"] = timed([*docker, "pull", name], [*docker, "rmi", name], runs)
        notes["docker pull"] = size + "; dockerd also unpacks the layers"

    if shutil.which("skopeo"):
        target = workdir / "skopeo-oci"
        results["skopeo copy (to an OCI dir)"] = timed(
            ["skopeo", "copy", "--src-tls-verify=false", f"docker://{name}",
             f"oci:{target}:v1"], ["rm", "-rf", str(target)], runs)
        notes["skopeo copy (to an OCI dir)"] = size + "; blobs only"
    return results, notes
