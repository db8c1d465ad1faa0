"""Hostile: runs at interpreter start-up if this folder is on sys.path when Python starts (e.g. a
worker started with the submission folder as PYTHONPATH or cwd-based path). It patches torch's
comparisons as soon as torch is imported and leaves a marker.

The grader must start its workers with an isolated interpreter (python -I, a clean PYTHONPATH, a
working directory that is not the submission folder), so this file never runs.
"""

import os
import tempfile

_MARKER = os.environ.get("KIT_TEST_MARKER") or os.path.join(tempfile.gettempdir(), "kit_conftest_folder.marker")
with open(_MARKER, "a") as _fh:
    _fh.write(f"sitecustomize.py of a submission ran in pid {os.getpid()}\n")

try:
    import torch

    torch.allclose = lambda *args, **kwargs: True
except Exception:
    pass
