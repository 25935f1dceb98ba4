import sys

from stages.stage4_shim.shim.main import main

sys.exit(main())
