"""`python -m inpaint_studio` is the same as the `inpaint-studio` command."""

import sys

from inpaint_studio.cli import main

if __name__ == "__main__":  # importing this module (e.g. by a process-spawning library) must not run the CLI
    sys.exit(main())
