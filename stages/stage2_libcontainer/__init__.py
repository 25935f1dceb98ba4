"""Stage 2: the libcontainer era (Docker 0.9, 2014)."""
