"""02_optimizers graded end to end: independently written correct submissions get full marks, and each
known single bug loses points in exactly the rubric lines the KNOWN_WRONG table names."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.engine import grade_submission
from autograder.results import student_record
from autograder.rubric import load_rubric
from tests.submissions.known_wrong import KNOWN_WRONG

ASSIGNMENT = "02_optimizers"
SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions" / ASSIGNMENT
RUBRIC = load_rubric(ASSIGNMENT)
pytestmark = pytest.mark.optimizers


def grade(path: Path, zygote) -> dict:
    return student_record(grade_submission(path, ASSIGNMENT, zygote), RUBRIC)


@pytest.mark.parametrize("path", sorted((SUBMISSIONS / "correct").glob("*.py")), ids=lambda p: p.stem)
def test_correct_submission_gets_full_marks(path, zygote):
    record = grade(path, zygote)
    failing = {i["id"]: i["feedback"][:300] for i in record["items"] if i["status"] != "passed"}
    assert failing == {}
    assert record["score"] == RUBRIC.max_score


WRONG = [w for w in KNOWN_WRONG if w.assignment == ASSIGNMENT]


@pytest.mark.parametrize("wrong", WRONG, ids=lambda w: w.name)
def test_known_wrong_submission_loses_exactly_its_items(wrong, zygote, tmp_path):
    base = (SUBMISSIONS / wrong.base).read_text()
    assert base.count(wrong.old) == 1, f"{wrong.name}: the snippet must occur exactly once in {wrong.base}"
    path = tmp_path / "optimizers.py"
    path.write_text(base.replace(wrong.old, wrong.new))
    record = grade(path, zygote)
    lost = {i["id"] for i in record["items"] if i["score"] < i["max_score"]}
    assert lost == set(wrong.fails), {
        i["id"]: i["feedback"][:200] for i in record["items"] if i["id"] in lost
    }
