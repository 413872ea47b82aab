"""`python -m inpaint_studio` is the same as the `inpaint-studio` command."""

import sys

from inpaint_studio.cli import main

sys.exit(main())
