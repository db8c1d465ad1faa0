"""The zoo of honest styles (``tests/submissions/<assignment>/zoo/``): correct submissions written the ways
real students and their tools write them (formatters, isort, aliases and type hints naming torch's
classes, ``__main__`` comparisons, exploratory imports later shadowed, computed attribute names over
their own attributes, notebooks with untagged ``display``/``print``/``tqdm``/plot cells, ``.py`` exports
with and without the experiment and self-check tags). Each gets full marks, and the shipped
``check_submission.py`` finds no problem in it. Part of the zoo was written blind (by someone who saw
only the released notebooks and the README); ``tests/submissions/README.md`` says which."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.engine import grade_submission
from autograder.grading.results import student_record
from autograder.grading.rubric import assignment_ids, load_rubric

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "tests/submissions"
MARKS = {
    "01_gradient_descent": pytest.mark.gradient_descent,
    "02_optimizers": pytest.mark.optimizers,
    "03_regularization": pytest.mark.regularization,
}
ZOO = [
    pytest.param(a, p, id=f"{a}-{p.name}", marks=MARKS[a])
    for a in assignment_ids()
    for p in sorted((SUBMISSIONS / a / "zoo").glob("*"))
    if p.suffix in (".py", ".ipynb")
]


def test_the_zoo_is_large_enough():
    for assignment in assignment_ids():
        assert sum(1 for p in ZOO if p.values[0] == assignment) >= 15, assignment


@pytest.mark.parametrize(("assignment", "path"), ZOO)
def test_an_honest_style_gets_full_marks(assignment, path, zygote, tmp_path):
    # graded under the name the course asks for, as a student hands it in
    rubric = load_rubric(assignment)
    target = tmp_path / (f"{assignment}.ipynb" if path.suffix == ".ipynb" else f"{rubric.module}.py")
    target.write_bytes(path.read_bytes())
    record = student_record(grade_submission(target, rubric, zygote), rubric)
    lost = {i["id"]: f"{i['status']}: {i['feedback'][:600]}"
            for i in record["items"] if i["score"] < i["max_score"]}
    assert lost == {}, lost
    assert all(f["kind"] != "review" for f in record.get("flags", [])), record["flags"]


@pytest.mark.parametrize(("assignment", "path"), ZOO)
def test_the_shipped_self_check_finds_no_problem(assignment, path):
    checker = ROOT / "assignments" / assignment / "check_submission.py"
    proc = subprocess.run([sys.executable, str(checker), str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "no problems found" in proc.stdout, proc.stdout + proc.stderr
