"""`make bench`, build part: the classic builder (`DOCKER_BUILDKIT=0 docker build`) of a
small multi-step Dockerfile, cold (--no-cache: every RUN a container started and
committed) and cached (every step a cache hit), on our stages and on a real dockerd.
The same docker CLI talks to each."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

from tests.engines import DOCKER_CLI, start_engine

DOCKERFILE = """\
FROM busybox
ENV GREETING=hello
WORKDIR /app
COPY data.txt .
RUN echo "$GREETING" > /msg && cat data.txt >> /msg
RUN wc -c /msg > /size
CMD ["cat", "/msg"]
"""


def _median_build(engine_socket: Path, context: Path, runs: int, *extra: str) -> float:
    times = []
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([DOCKER_CLI, "-H", f"unix://{engine_socket}", "build", "-q", *extra,
                        "-t", "wb-bench-build", str(context)], check=True, env=env,
                       capture_output=True, timeout=300)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_build(stack: ExitStack, workdir: Path, runs: int, with_docker: bool,
                stages: tuple[str, ...] = ("stage2", "stage3", "stage4")) -> dict[str, float]:
    context = workdir / "build-context"
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "data.txt").write_text("some data\n" * 100)
    results: dict[str, float] = {}
    for name in (*stages, *(("reference",) if with_docker else ())):
        with start_engine(name) as engine:
            label = "docker" if name == "reference" else name
            results[f"{label} build, cold (--no-cache)"] = _median_build(
                engine.socket, context, runs, "--no-cache")
            results[f"{label} build, cached"] = _median_build(engine.socket, context, runs)
    return results
