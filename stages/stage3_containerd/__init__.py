"""Stage 3: the split (Docker 1.11, 2016): dockerd, containerd over gRPC, runc."""
