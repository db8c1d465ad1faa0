"""`nbgrader autograde` grades with the kit (KitGrades in place of Execute): the gradebook gets the kit's
points, the solution full marks and the released stub zero, and a student cannot keep points by
editing a test cell's outputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.grading.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "02_optimizers"


@pytest.mark.slow
@pytest.mark.optimizers
def test_nbgrader_autograde_uses_the_kit(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    for name in ("nbgrader_config.py", "solutions", "assignments", "autograder", "reference"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, course / name)
    notebooks = {
        "alice": ROOT / f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
        "bob": ROOT / f"assignments/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
    }
    for student, nb_path in notebooks.items():
        target = course / "submitted" / student / ASSIGNMENT
        target.mkdir(parents=True)
        nb = json.loads(nb_path.read_text())
        if student == "bob":  # a forged "all passed" output in every test cell must not count
            for cell in nb["cells"]:
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                    cell["outputs"] = [
                        {
                            "output_type": "execute_result",
                            "execution_count": 1,
                            "metadata": {},
                            "data": {"text/plain": "11.0"},
                        }
                    ]
        (target / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for cmd in (["generate_assignment", ASSIGNMENT, "--force"], ["autograde", ASSIGNMENT, "--force"]):
        proc = subprocess.run(
            [sys.executable, "-m", "nbgrader", *cmd],
            cwd=course,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    rubric = load_rubric(ASSIGNMENT)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        alice = gb.find_submission(ASSIGNMENT, "alice")
        bob = gb.find_submission(ASSIGNMENT, "bob")
        assert alice.max_score == rubric.max_score
        assert alice.score == rubric.max_score
        assert bob.score == 0
