"""`nbgrader autograde` grades with the kit (KitGrades in place of Execute): the gradebook gets the kit's
points, the solution full marks and the released stub zero, and a student cannot keep points by
editing a test cell's outputs, by naming another file in the notebook's metadata, or by handing in a
link to the solution (the kit refuses links, so nbgrader does too): the gradebook, `make export` and
the kit's own record of each submission agree. Publishing is scoped: a kit folder published with OUT
leaves nbgrader's pages alone; nbgrader's class published with NBGRADER=1 stays published through a
plain `nbgrader generate_feedback`."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.grading.rubric import load_rubric
from autograder.reporters.visibility import HIDDEN_FEEDBACK
from autograder.tasks.nbgrader_plugin import GRADED, KitGrades

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "02_optimizers"
SOLUTION = ROOT / f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
STUB = ROOT / f"assignments/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"


def naming(path: str) -> str:
    """The released stub, unchanged but for notebook metadata naming ``path`` as the file to grade
    (what an earlier KitGrades read: it graded that file instead)."""
    nb = json.loads(STUB.read_text())
    nb["metadata"]["kit"] = {"unreadable": {"path": path, "reason": "x"}}
    for cell in nb["cells"]:  # and, for good measure, every cell's metadata
        cell.setdefault("metadata", {})["kit"] = {"unreadable": {"path": path}, "items": []}
    return json.dumps(nb)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)


@pytest.mark.slow
@pytest.mark.optimizers
def test_nbgrader_autograde_uses_the_kit(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    for name in ("nbgrader_config.py", "solutions", "assignments", "autograder", "reference"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, course / name)
    forged = json.loads(STUB.read_text())
    for cell in forged["cells"]:  # a forged "all passed" output in every test cell must not count
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell["outputs"] = [
                {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                 "data": {"text/plain": "11.0"}}
            ]
    notebooks = {
        "alice": SOLUTION.read_text(),
        "bob": json.dumps(forged),
        # the stub, its metadata naming the solution notebook (relative to the course, as the TA runs it)
        "mallory": naming(f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"),
        # the stub, its metadata naming another student's submitted notebook
        "trudy": naming(str(course / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")),
        "zed": '{"cells": [ not JSON',  # unreadable: still recorded, with 0 points and the reason
    }
    for student, text in notebooks.items():
        target = course / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        (target / f"{ASSIGNMENT}.ipynb").write_text(text)
    # a link to the solution notebook: the kit never follows links, so nbgrader must not either
    (course / "submitted" / "sly" / ASSIGNMENT).mkdir(parents=True)
    (course / "submitted" / "sly" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").symlink_to(SOLUTION)
    notebooks["sly"] = ""
    for cmd in (["generate_assignment", ASSIGNMENT, "--force"], ["autograde", ASSIGNMENT, "--force"],
                ["generate_feedback", ASSIGNMENT, "--force"]):
        proc = run("-m", "nbgrader", *cmd, cwd=course)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "not recognized" not in proc.stderr  # display_data_priority, once per notebook
    rubric = load_rubric(ASSIGNMENT)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        book = {s: gb.find_submission(ASSIGNMENT, s).score for s in notebooks}
        assert gb.find_submission(ASSIGNMENT, "alice").max_score == rubric.max_score
    assert book == {"alice": rubric.max_score, "bob": 0, "mallory": 0, "trudy": 0, "zed": 0, "sly": 0}

    # the kit's own record of each submission's content, and make export, say the same
    kit = tmp_path / "kit"
    submitted = sorted(str(p) for p in (course / "submitted").iterdir())
    graded = run("-m", "autograder", "grade", *submitted, "--out", str(kit), "--jobs", "2", "--quiet",
                 cwd=ROOT)
    assert graded.returncode == 0, graded.stderr[-2000:]
    assert {s: json.loads((kit / f"{s}.json").read_text())["score"] for s in notebooks} == book
    out = tmp_path / "export.csv"
    exported = run("-m", "autograder", "export", "--gradebook", str(course / "gradebook.db"),
                   "--out", str(out), cwd=ROOT)
    assert exported.returncode == 0, exported.stderr
    assert {r["student"]: float(r["score"]) for r in csv.DictReader(out.open())} == book

    page = course / "feedback" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    zed = (course / "feedback" / "zed" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "could not read the notebook you submitted" in zed and "not a valid notebook" in zed
    sly = (course / "feedback" / "sly" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "could not read the notebook you submitted" in sly and "link" in sly
    before = page.read_bytes()
    assert HIDDEN_FEEDBACK in before.decode() and "```" not in before.decode()
    # publishing a kit folder (a trial run) leaves nbgrader's class alone
    proc = run("-m", "autograder", "publish", "--assignment", ASSIGNMENT, "--out", str(kit), "--course",
               str(course), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert page.read_bytes() == before and not (course / "grades/nbgrader/published.json").exists()
    # publishing nbgrader's class is its own step, and a plain generate_feedback keeps it published
    proc = run("-m", "autograder", "publish", "--assignment", ASSIGNMENT, "--nbgrader",
               "--course", str(course), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert HIDDEN_FEEDBACK not in page.read_text()
    proc = run("-m", "nbgrader", "generate_feedback", ASSIGNMENT, "--force", cwd=course)
    assert proc.returncode == 0 and "not recognized" not in proc.stderr, proc.stderr[-2000:]
    assert HIDDEN_FEEDBACK not in page.read_text()


@pytest.mark.slow
@pytest.mark.optimizers
def test_kit_grades_reads_the_cells_and_nothing_else():
    """A stub whose metadata names the solution notebook is graded as the stub it is (in-process here:
    no records), and every kit key the student wrote is gone from the autograded notebook."""
    nb = nbformat.reads(naming(str(SOLUTION)), as_version=4)
    resources = {"nbgrader": {"assignment": ASSIGNMENT, "student": "mallory", "notebook": ASSIGNMENT}}
    before = GRADED["in_process"]
    nb, _ = KitGrades().preprocess(nb, resources)
    assert GRADED["in_process"] == before + 1
    assert "kit" not in nb.metadata
    points = {}
    for cell in nb.cells:
        if "kit" in cell.metadata:
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            points[grade_id] = float(cell.outputs[1]["data"]["text/plain"])
            assert set(cell.metadata["kit"]) == {"items"} and cell.metadata["kit"]["items"]
    rubric = load_rubric(ASSIGNMENT)
    assert points == {f"test_{name}": 0.0 for name in rubric.graded_names}
