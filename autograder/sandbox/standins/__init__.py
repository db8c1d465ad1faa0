"""Trusted stand-ins: correct implementations of graded names (or of what a check's training loop
needs) that stand in for the student's own while another graded name is graded.

They live on the trusted side, never in the worker package: the grader sends a stand-in's source to a
worker only when that worker grades a name that needs it (``families/recipes.py``), and never to the
worker of the name it stands for. So the worker that grades ``BatchNormFunction`` holds no correct
``BatchNormFunction`` that the student's code could hand back, and the one that grades ``SGD`` holds no
SGD step. Each file is self-contained (torch and the standard library only): the worker executes it as
a module of its own, and the grader imports the same file for its twin runs.
"""

from __future__ import annotations

import functools
from pathlib import Path

HERE = Path(__file__).parent
# stand-in name -> its file
FILES = {
    "BatchNormFunction": "batch_norm_function.py",
    "minibatches": "minibatches.py",
    "sgd": "sgd.py",
}


@functools.cache
def source_of(name: str) -> str:
    """The source of stand-in ``name`` (``KeyError`` for an unknown one)."""
    return (HERE / FILES[name]).read_text(encoding="utf-8")


def sources(names) -> dict[str, str]:
    """Stand-in name -> source, for a worker's load request."""
    return {name: source_of(name) for name in sorted(names)}
