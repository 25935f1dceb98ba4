"""Stage 1: the LXC era (Docker 0.1, 2013)."""
from stages.stage1_lxc.daemon import run

run()
