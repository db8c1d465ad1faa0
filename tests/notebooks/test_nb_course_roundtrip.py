"""A course from release to the LMS export, on a temporary nbgrader course with four students: a correct
notebook, a buggy one, one that is not JSON, and one that hangs (and a fifth who handed in a `.py` file
only, which nbgrader cannot take). `make autograde` grades them in the kit's lanes and records every
notebook in the gradebook (exit 0, no SQLAlchemy noise); `make feedback` shows the unreadable student
why; `make export` and `make grade` agree with the gradebook, and the export has the fifth student."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.grading.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
A = "01_gradient_descent"
SOURCE = ROOT / "solutions" / A / f"{A}.ipynb"
MODULE = "gradient_descent.py"
BUG = ("(self.last_epoch + 1) ** -self.power", "(self.last_epoch + 2) ** -self.power")
SIGNATURE = "def minibatches(n, batch_size, *, shuffle=True, generator=None):\\n"
HANG = (SIGNATURE, SIGNATURE + "    while True:\\n        pass\\n")

pytestmark = [pytest.mark.slow, pytest.mark.gradient_descent]


def env() -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),  # the course's nbgrader_config.py imports the kit's plugin
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env(), capture_output=True, text=True, timeout=900
    )


def mutated(old: str, new: str) -> str:
    text = SOURCE.read_text()
    assert old in text, f"the solution notebook no longer contains {old!r}"
    return text.replace(old, new, 1)


def make_course(course: Path) -> subprocess.CompletedProcess:
    """Release, the submissions, `make autograde` (what the Makefile runs); its completed process."""
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / A, course / "solutions" / A)
    release = run("-m", "nbgrader", "generate_assignment", A, "--force", cwd=course)
    assert release.returncode == 0, release.stderr[-3000:]
    notebooks = {
        "ann": SOURCE.read_text(),
        "ben": mutated(*BUG),
        "cy": '{"cells": [ this is not JSON',
        "dora": mutated(*HANG),
    }
    for student, text in notebooks.items():
        folder = course / "submitted" / student / A
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_text(text)
    (course / "submitted" / "eve" / A).mkdir(parents=True)
    shutil.copy(ROOT / "tests/submissions" / A / "correct/loop.py", course / "submitted/eve" / A / MODULE)
    return run("-m", "autograder", "autograde", "--assignment", A, "--course", str(course), "--jobs", "2")


def gradebook_scores(course: Path) -> dict[str, float]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s: gb.find_submission(A, s).score for s in ("ann", "ben", "cy", "dora")}


def check_autograde(course: Path, proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "SAWarning" not in proc.stderr and "Traceback" not in proc.stderr
    assert "kit: 5 graded, 0 unchanged and reused" in proc.stdout
    # nbgrader took every notebook's grade from the lanes' records (cy's from her unreadable file's)
    assert "4 notebook(s) took the kit's records, 0 were graded again in-process" in proc.stdout
    assert f"recorded 4 students of {A} in the gradebook" in proc.stdout
    assert "eve: kit 17, gradebook - / 17 no notebook, kit grade only (make export)" in proc.stdout
    rubric = load_rubric(A)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        subs = {s: gb.find_submission(A, s) for s in ("ann", "ben", "cy", "dora")}
        assert subs["ann"].score == rubric.max_score
        assert 0 < subs["ben"].score < rubric.max_score
        assert subs["dora"].score == rubric.max_score - rubric.points_of("minibatches")  # only the hang
        assert subs["cy"].score == 0 and subs["cy"].max_score == rubric.max_score
        assert not any(s.needs_manual_grade for s in subs.values())


def check_feedback(course: Path) -> None:
    proc = run("-m", "nbgrader", "generate_feedback", A, "--force", cwd=course)  # make feedback
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "SAWarning" not in proc.stderr
    page = (course / "feedback" / "cy" / A / f"{A}.html").read_text()
    assert "could not read the notebook you submitted" in page
    assert "not a valid notebook" in page and "every graded part scores 0" in page
    hang = (course / "feedback" / "dora" / A / f"{A}.html").read_text()
    assert "minibatches.coverage: timeout (0/2)" in hang and "PowerDecayLR.schedule: passed" in hang
    for shown in (page, hang):  # offline: no script or stylesheet from a CDN (nbgrader's MathJax)
        assert not re.search(r"<(script|link)\b[^>]*(src|href)=[\"']?(https?:)?//", shown), shown[:2000]


def check_export_and_make_grade(course: Path, tmp_path: Path) -> None:
    scores = gradebook_scores(course)
    out = tmp_path / "export.csv"
    proc = run(
        "-m",
        "autograder",
        "export",
        str(course / "grades"),
        "--gradebook",
        str(course / "gradebook.db"),
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["student"]: r for r in csv.DictReader(out.open())}
    assert sorted(rows) == sorted([*scores, "eve"]) and {r["assignment"] for r in rows.values()} == {A}
    assert {s: float(rows[s]["score"]) for s in scores} == scores
    assert {rows[s]["source"] for s in scores} == {"gradebook"}
    assert rows["eve"]["source"] == str(course / "grades" / "nbgrader" / A)
    assert float(rows["eve"]["score"]) == load_rubric(A).max_score

    kit = tmp_path / "kit"
    submitted = sorted(str(p) for p in (course / "submitted").iterdir())
    graded = run("-m", "autograder", "grade", *submitted, "--out", str(kit), "--jobs", "2", "--quiet")
    assert graded.returncode == 0, graded.stderr  # the assignment comes from nbgrader's layout
    made = {s: json.loads((kit / f"{s}.json").read_text())["score"] for s in scores}
    assert made == scores
    assert json.loads((kit / "eve.json").read_text())["score"] == float(rows["eve"]["score"])
    cy = json.loads((kit / "cy.json").read_text())
    assert "not a valid notebook" in cy["errors"][0] and cy["graded_file"] == f"{A}/{A}.ipynb"


def check_rerun(course: Path) -> None:
    before = gradebook_scores(course)
    proc = run("-m", "autograder", "autograde", "--assignment", A, "--course", str(course), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "kit: 0 graded, 5 unchanged and reused" in proc.stdout
    assert gradebook_scores(course) == before


def check_publish(course: Path) -> None:
    proc = run("-m", "autograder", "publish", "--assignment", A, "--course", str(course))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"published 5 students in {course / 'grades' / 'nbgrader' / A}/" in proc.stdout
    assert "published nbgrader feedback of 4 students" in proc.stdout
    assert json.loads((course / "grades" / "nbgrader" / A / "run.json").read_text())["published"] is True


def test_a_course_round_trip(tmp_path):
    """One course, its steps in order (they build on each other, so they share one test)."""
    course = tmp_path / "course"
    course.mkdir()
    check_autograde(course, make_course(course))
    check_feedback(course)  # make feedback
    check_export_and_make_grade(course, tmp_path)  # make export, make grade SUBMISSIONS=submitted
    check_rerun(course)  # make autograde again: nothing changed, nothing regraded
    check_publish(course)  # make publish
