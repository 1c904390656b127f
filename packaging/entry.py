"""The frozen executables start here (PyInstaller needs a script; the logic is in desktop.__main__)."""

import sys

from desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
