"""The Gradescope bundle."""

from __future__ import annotations

import zipfile

from autograder.bundle import build_bundle


def test_gradescope_bundle_runs_the_kit_on_the_submission(tmp_path):
    out = build_bundle("03_regularization", tmp_path / "autograder.zip")
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        run = zf.read("run_autograder").decode()
        mode = zf.getinfo("run_autograder").external_attr >> 16
    assert {
        "setup.sh",
        "run_autograder",
        "requirements.txt",
        "constraints.txt",
        "autograder/cli.py",
        "reference/__init__.py",
        "autograder/rubric/03_regularization.toml",
    } <= names
    assert "--assignment 03_regularization /autograder/submission" in run
    assert "/autograder/results/results.json" in run and mode & 0o111
    assert not any("__pycache__" in n for n in names)
