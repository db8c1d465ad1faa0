"""The kit's grader on the notebooks themselves: the solutions earn full marks, the release earns zero."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from autograder.tasks.release import REPO

from .nbkit import assignment_params, release_path, source_path


@pytest.mark.parametrize("assignment", assignment_params(pytest.mark.slow))
def test_grader_gives_the_solution_full_marks_and_the_release_zero(assignment, tmp_path):
    # Submissions as students hand them in: the notebook file itself; the file stem is the student id.
    shutil.copy(source_path(assignment), tmp_path / "solution.ipynb")
    shutil.copy(release_path(assignment), tmp_path / "release.ipynb")
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--assignment", assignment,
         str(tmp_path / "solution.ipynb"), str(tmp_path / "release.ipynb"), "--out", str(out), "--jobs", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    solution = json.loads((out / "solution.json").read_text())
    stub = json.loads((out / "release.json").read_text())
    failed = [(item["id"], item["status"], item["feedback"][:200])
              for item in solution["items"] if item["status"] != "passed"]
    assert solution["score"] == solution["max_score"], failed
    assert stub["score"] == 0 and stub["max_score"] == solution["max_score"]
    # a stub is "not implemented yet" on every line, said once at the top, not once per line
    assert {item["status"] for item in stub["items"]} == {"missing"}, stub["items"]
    assert stub["errors"][0].startswith("Nothing is implemented yet"), stub["errors"]
    assert all(item["feedback"].endswith("(see above)") for item in stub["items"])
