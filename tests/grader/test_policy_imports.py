"""What the submission policy allows a submission to import is installed wherever grading runs: every
allowed module imports in the dev environment, and every allowed third-party package is pinned in
``requirements-runtime.txt`` (what the Gradescope bundle installs), for each Python it supports."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder.policy.tables import ALLOWED_IMPORTS

ROOT = Path(__file__).resolve().parents[2]
# the distribution that installs each third-party top-level package the policy allows
DISTRIBUTIONS = {"torch": "torch", "numpy": "numpy", "matplotlib": "matplotlib", "sklearn": "scikit-learn",
                 "tqdm": "tqdm", "typing_extensions": "typing-extensions"}


@pytest.mark.parametrize("module", sorted(ALLOWED_IMPORTS))
def test_every_allowed_module_imports_in_the_dev_environment(module):
    importlib.import_module(module)


def _runtime_distributions() -> set[str]:
    names = set()
    for line in (ROOT / "requirements-runtime.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(canonicalize_name(Requirement(line).name))
    return names


def test_every_allowed_third_party_package_is_pinned_for_grading():
    third_party = sorted({m.split(".")[0] for m in ALLOWED_IMPORTS} - set(sys.stdlib_module_names))
    unknown = [m for m in third_party if m not in DISTRIBUTIONS]
    assert not unknown, f"add the distribution of {unknown} to DISTRIBUTIONS and requirements-runtime.txt"
    missing = [DISTRIBUTIONS[m] for m in third_party
               if canonicalize_name(DISTRIBUTIONS[m]) not in _runtime_distributions()]
    assert not missing, f"allowed by the policy but not installed by requirements-runtime.txt: {missing}"
