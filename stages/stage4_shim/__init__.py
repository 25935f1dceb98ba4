"""Stage 4: shims, so containers outlive their managers (Docker 1.11/1.12, 2016).

One small `whalebones-shim` process per container becomes the container's parent,
holds its stdio and terminal, reaps it and keeps its exit status: containerd and the
daemon can then restart (or crash) while containers run on. In history the shim
shipped with containerd from Docker 1.11 on; Whalebones shows it as its own step.
"""
