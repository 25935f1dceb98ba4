"""`python -m shared.client ARGS` runs the CLI."""

import sys

from shared.client.cli import main

sys.exit(main())
