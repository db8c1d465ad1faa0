"""``python -m bench.nbgrader_compare [--keep DIR] [--json FILE]``: see ``compare.py``."""

import sys

from .compare import main

main(sys.argv[1:])
