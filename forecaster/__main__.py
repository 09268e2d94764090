"""Entry point for `python -m forecaster`."""

import sys

from forecaster.cli import main

if __name__ == "__main__":
    sys.exit(main())
