"""Entry point of the frozen app: the same as the `smartcopy` command."""

import sys

from smartcopy_gui.app import main

if __name__ == "__main__":
    sys.exit(main())
