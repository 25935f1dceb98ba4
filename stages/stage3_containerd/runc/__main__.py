"""`python -m stages.stage3_containerd.runc ...`, the same as `whalebones-runc ...`."""

import sys

from stages.stage3_containerd.runc.cli import main

sys.exit(main())
