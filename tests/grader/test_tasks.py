"""TA tasks besides grading: the class export and the Gradescope bundle."""

from __future__ import annotations

import csv
import json
import zipfile

from autograder.bundle import build_bundle
from autograder.export import write_export


def test_export_collects_one_row_per_student_and_assignment(tmp_path):
    for assignment, student, score in (
        ("01_gradient_descent", "ann", 17.0),
        ("02_optimizers", "ann", 40.5),
        ("02_optimizers", "bo", 0.0),
    ):
        folder = tmp_path / "autograded" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{student}.json").write_text(
            json.dumps({"student": student, "assignment": assignment, "score": score, "max_score": 44.0})
        )
        (folder / "run.json").write_text(json.dumps({"jobs": 1}))
    out = tmp_path / "export.csv"
    assert write_export([tmp_path / "autograded"], out) == 3
    rows = list(csv.DictReader(out.open()))
    assert [(r["student"], r["assignment"], r["score"]) for r in rows] == [
        ("ann", "01_gradient_descent", "17.0"),
        ("ann", "02_optimizers", "40.5"),
        ("bo", "02_optimizers", "0.0"),
    ]


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
