import sys

from evsim.cli import main

sys.exit(main())
