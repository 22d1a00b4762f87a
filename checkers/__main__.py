import sys

from checkers.cli import main

sys.exit(main())
