"""`python -m trainer`: fetch the photo set, train a recipe, export a run as an app checkpoint."""

from __future__ import annotations

import sys

from trainer.cli import main

if __name__ == "__main__":
    sys.exit(main())
