"""A course from release to the LMS export, on a temporary nbgrader course with seven students: a
correct notebook, the same with a test cell deleted, a buggy one, one that is not JSON, one that hangs,
and two stubs whose notebook metadata names another file to grade (another student's submitted
notebook; the solution notebook); and an eighth who handed in a `.py` file only, which nbgrader cannot
take. `make autograde` grades them in the kit's lanes and records every notebook in the gradebook (exit
0, no SQLAlchemy noise); `make feedback` shows the unreadable student why, the reproducers as code
blocks, the graded names in the headers, and writes the `.py` student's page; `make export` and `make
grade` agree with the gradebook (the stubs get 0 everywhere, the deleted test cell costs nothing), and
the export has the eighth student. `make publish` publishes what it names: a kit folder (OUT) leaves
nbgrader's class alone; NBGRADER=1 publishes nbgrader's class, which stays published through `make
autograde` and `make feedback`."""

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
NOTEBOOKS = ("ann", "ben", "cy", "dora", "fay", "gil", "ida")
# The kit the course runs: a snapshot of this checkout taken when the test starts (``snapshot``), so an
# edit of the kit's files while the test runs (which changes the kit's fingerprint, and so every
# content hash) cannot make a rerun regrade what it should reuse.
KIT = [ROOT]

pytestmark = [pytest.mark.slow, pytest.mark.gradient_descent]


def snapshot(folder: Path) -> Path:
    for name in ("autograder", "reference", "solutions"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    KIT[0] = folder
    return folder


def env() -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(KIT[0]),  # the course's nbgrader_config.py imports the kit's plugin
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd or KIT[0], env=env(), capture_output=True, text=True, timeout=900
    )


def kit(*args: str, course: Path) -> subprocess.CompletedProcess:
    """``python -m autograder <command> --assignment A --course <course> ...`` (what the Makefile runs)."""
    proc = run("-m", "autograder", *args[:1], "--assignment", A, "--course", str(course), *args[1:])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "not recognized" not in proc.stderr and "SAWarning" not in proc.stderr
    return proc


def mutated(old: str, new: str) -> str:
    text = SOURCE.read_text()
    assert old in text, f"the solution notebook no longer contains {old!r}"
    return text.replace(old, new, 1)


def without_test_cell(name: str) -> str:
    """The solution notebook with the test cell of ``name`` deleted (nbgrader puts it back)."""
    nb = json.loads(SOURCE.read_text())
    graded = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
    nb["cells"] = [c for c, grade_id in zip(nb["cells"], graded, strict=True) if grade_id != f"test_{name}"]
    assert len(nb["cells"]) < len(json.loads(SOURCE.read_text())["cells"])
    return json.dumps(nb)


def naming(stub: Path, path: str) -> str:
    """The released stub, unchanged but for notebook metadata naming ``path`` as the file to grade."""
    nb = json.loads(stub.read_text())
    nb["metadata"]["kit"] = {"unreadable": {"path": path, "reason": "x"}}
    return json.dumps(nb)


def make_course(course: Path) -> subprocess.CompletedProcess:
    """Release, the submissions, `make autograde` (what the Makefile runs); its completed process."""
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / A, course / "solutions" / A)
    release = run("-m", "nbgrader", "generate_assignment", A, "--force", cwd=course)
    assert release.returncode == 0, release.stderr[-3000:]
    stub = course / "assignments" / A / f"{A}.ipynb"
    notebooks = {
        "ann": SOURCE.read_text(),
        "ben": mutated(*BUG),
        "cy": '{"cells": [ this is not JSON',
        "dora": mutated(*HANG),
        "fay": naming(stub, str(course / "submitted" / "ann" / A / f"{A}.ipynb")),  # another student's
        "gil": naming(stub, f"solutions/{A}/{A}.ipynb"),  # the solution (relative to where the TA runs)
        "ida": without_test_cell("PowerDecayLR"),
    }
    for student, text in notebooks.items():
        folder = course / "submitted" / student / A
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_text(text)
    (course / "submitted" / "eve" / A).mkdir(parents=True)
    shutil.copy(ROOT / "tests/submissions" / A / "correct/loop.py", course / "submitted/eve" / A / MODULE)
    (course / "submitted" / "eve" / A / "timestamp.txt").write_text("2024-05-01 10:00:00.000000 UTC\n")
    return run("-m", "autograder", "autograde", "--assignment", A, "--course", str(course), "--jobs", "2")


def gradebook_scores(course: Path) -> dict[str, float]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s: gb.find_submission(A, s).score for s in NOTEBOOKS}


def check_autograde(course: Path, proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "SAWarning" not in proc.stderr and "Traceback" not in proc.stderr
    assert "kit: 8 graded, 0 unchanged and reused" in proc.stdout
    # nbgrader took every notebook's grade from the lanes' records (cy's from her unreadable file's)
    assert "7 notebook(s) took the kit's records, 0 were graded again in-process" in proc.stdout
    assert f"recorded 7 students of {A} in the gradebook" in proc.stdout
    assert "eve: kit 17, gradebook - / 17 no notebook, kit grade only (make export)" in proc.stdout
    assert "gradebook differs" not in proc.stdout
    rubric = load_rubric(A)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        subs = {s: gb.find_submission(A, s) for s in NOTEBOOKS}
        assert subs["ann"].score == rubric.max_score
        assert subs["ida"].score == rubric.max_score  # her deleted test cell was put back, with its points
        assert 0 < subs["ben"].score < rubric.max_score
        assert subs["dora"].score == rubric.max_score - rubric.points_of("minibatches")  # only the hang
        assert subs["cy"].score == 0 and subs["cy"].max_score == rubric.max_score
        assert subs["fay"].score == 0 and subs["gil"].score == 0  # the stub they are
        assert not any(s.needs_manual_grade for s in subs.values())


def page(course: Path, student: str) -> str:
    return (course / "feedback" / student / A / f"{A}.html").read_text()


def check_feedback(course: Path) -> None:
    # nbgrader's own command works as well, without a warning per notebook (display_data_priority)
    proc = run("-m", "nbgrader", "generate_feedback", A, "--force", cwd=course)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "SAWarning" not in proc.stderr and "not recognized" not in proc.stderr
    proc = kit("feedback", course=course)  # make feedback
    assert f"nbgrader feedback of 7 students in feedback/*/{A}/" in proc.stdout
    assert f"of 1 students who handed in a .py file only, in feedback/<student>/{A}/{A}.html" in proc.stdout
    unreadable = page(course, "cy")
    assert "could not read the notebook you submitted" in unreadable
    assert "not a valid notebook" in unreadable and "every graded part scores 0" in unreadable
    hang = page(course, "dora")
    assert '<code>minibatches.coverage</code>: <span class="kit-status">timed out</span> (0/2)' in hang
    assert '<span class="kit-status">passed</span>: <code>PowerDecayLR.interface</code> (1/1), ' in hang
    bug = page(course, "ben")
    assert '<pre class="kit-code"><code>' in bug and "```" not in bug  # the reproducer: a code block
    for name in load_rubric(A).graded_names:  # each test cell's header and contents entry name it
        assert bug.count(f"Tests of <code>{name}</code>") == 2
    assert "Test cell" not in bug
    eve = page(course, "eve")  # the .py-only student: the kit's own page, where nbgrader puts pages
    assert MODULE in eve and "17" in eve and "PowerDecayLR.schedule" in eve
    assert (course / "feedback" / "eve" / A / "timestamp.txt").is_file()
    for shown in (unreadable, hang, bug, eve):  # offline: no script or stylesheet from a CDN (MathJax)
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

    kit_out = tmp_path / "kit"
    submitted = sorted(str(p) for p in (course / "submitted").iterdir())
    graded = run("-m", "autograder", "grade", *submitted, "--out", str(kit_out), "--jobs", "2", "--quiet")
    assert graded.returncode == 0, graded.stderr  # the assignment comes from nbgrader's layout
    made = {s: json.loads((kit_out / f"{s}.json").read_text())["score"] for s in scores}
    assert made == scores  # fay and gil included: 0 here, 0 in the gradebook, 0 in the export
    assert json.loads((kit_out / "eve.json").read_text())["score"] == float(rows["eve"]["score"])
    cy = json.loads((kit_out / "cy.json").read_text())
    assert "not a valid notebook" in cy["errors"][0] and cy["graded_file"] == f"{A}/{A}.ipynb"


def check_rerun(course: Path) -> None:
    before = gradebook_scores(course)
    proc = run("-m", "autograder", "autograde", "--assignment", A, "--course", str(course), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "kit: 0 graded, 8 unchanged and reused" in proc.stdout
    assert gradebook_scores(course) == before


def feedback_pages(course: Path) -> dict[str, bytes]:
    return {str(p.relative_to(course)): p.read_bytes() for p in sorted((course / "feedback").rglob("*.html"))}


def check_publish(course: Path, tmp_path: Path) -> None:
    records = course / "grades" / "nbgrader" / A
    pages = feedback_pages(course)
    # OUT: that kit folder only (here the trial grading of check_export_and_make_grade)
    proc = kit("publish", "--out", str(tmp_path / "kit"), course=course)
    assert f"published 8 students in {tmp_path / 'kit'}/" in proc.stdout and "nbgrader" not in proc.stdout
    assert feedback_pages(course) == pages  # nbgrader's class untouched
    assert json.loads((records / "run.json").read_text())["published"] is False
    assert not (course / "grades" / "nbgrader" / "published.json").exists()
    # NBGRADER=1: nbgrader's class, remembered in the course folder
    proc = kit("publish", "--nbgrader", course=course)
    assert f"published 8 students in {records}/" in proc.stdout
    assert f"nbgrader feedback of 7 students in feedback/*/{A}/ (hidden checks' details shown" in proc.stdout
    assert json.loads((records / "run.json").read_text())["published"] is True
    assert A in json.loads((course / "grades" / "nbgrader" / "published.json").read_text())
    # it stays published: make autograde (late submissions), then make feedback
    (course / "submitted" / "hal" / A).mkdir(parents=True)
    shutil.copy(ROOT / "tests/submissions" / A / "correct/loop.py", course / "submitted/hal" / A / MODULE)
    proc = run("-m", "autograder", "autograde", "--assignment", A, "--course", str(course), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "kit: 1 graded, 8 unchanged and reused" in proc.stdout
    assert json.loads((records / "run.json").read_text())["published"] is True
    proc = kit("feedback", course=course)
    assert "(hidden checks' details shown (published))" in proc.stdout and "points only" not in proc.stdout
    assert "of 2 students who handed in a .py file only" in proc.stdout and page(course, "hal")


def test_a_course_round_trip(tmp_path):
    """One course, its steps in order (they build on each other, so they share one test)."""
    snapshot(tmp_path / "kit-snapshot")
    course = tmp_path / "course"
    course.mkdir()
    check_autograde(course, make_course(course))
    check_feedback(course)  # make feedback
    check_export_and_make_grade(course, tmp_path)  # make export, make grade SUBMISSIONS=submitted
    check_rerun(course)  # make autograde again: nothing changed, nothing regraded
    check_publish(course, tmp_path)  # make publish OUT=..., then NBGRADER=1, then autograde + feedback
