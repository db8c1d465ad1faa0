"""A class run's manners: an output folder it refuses is refused on a clean console, before any progress
bar; and grading writes nothing into the folder it runs from except its output folder (hypothesis keeps
its own files in a private temporary folder, not in ``.hypothesis/`` of the checkout)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from autograder.grading.rubric import load_rubric
from autograder.tasks.classrun import ClassRun, run_with_progress
from autograder.tasks.outdir import OutputConflict
from tests.reporters.records import build_record

ROOT = Path(__file__).resolve().parents[2]


def test_a_refused_output_folder_draws_no_progress_bar(tmp_path):
    from autograder.reporters import write_all

    other = load_rubric("03_regularization")
    out = tmp_path / "out"
    write_all([build_record(other, "ann")], other, out, {"ann": 1.0}, {"jobs": 1})
    sub = tmp_path / "ann.py"
    sub.write_text("X = 1\n")
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    run = ClassRun(load_rubric("02_optimizers"), [sub], out)
    with pytest.raises(OutputConflict, match="holds grades of 03_regularization"):
        run_with_progress(run, console)
    assert screen.getvalue() == ""  # no bar (not even an empty one) before the refusal


@pytest.mark.slow
def test_grading_writes_only_its_output_folder(tmp_path):
    """Grade a class from an empty folder (as a TA grades from the checkout): afterwards that folder holds
    the submission and grades/ only. Hypothesis, run with its default storage, would leave .hypothesis/."""
    sample = ROOT / "tests/submissions/02_optimizers/sample_class/alice.py"
    (tmp_path / "ann.py").write_text(sample.read_text())
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    env |= {"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--assignment", "02_optimizers", "ann.py", "--quiet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ann.py", "grades"]
    assert (tmp_path / "grades/02_optimizers/ann.json").is_file()
