"""Every convergence line carries its loss curves (the student's and a correct run's, at the same
steps): identical for a correct submission, apart for a bug the line catches, and drawn in the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.grading.engine import grade_submission
from autograder.grading.results import student_record
from autograder.grading.rubric import load_rubric
from autograder.reporters import plots
from tests.submissions.known_wrong import KNOWN_WRONG

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
# Dropout draws its masks the student's way (rand_like, bernoulli...): the same seed gives other masks,
# so a correct run follows its own path and only ends near the reference.
RANDOM_MASKS = {"Dropout.convergence"}


def convergence_items(path: Path, assignment: str, zygote) -> dict[str, dict]:
    rubric = load_rubric(assignment)
    record = student_record(grade_submission(path, rubric, zygote), rubric)
    kinds = {line.id: line.kind for line in rubric.lines}
    return {i["id"]: i for i in record["items"] if kinds[i["id"]].endswith("convergence")}


def curves(item: dict) -> tuple[list, list]:
    """The student's curves and the references', paired in order (a plot may hold several runs)."""
    assert plots.valid(item.get("plot")), item["id"]
    series = item["plot"]["series"]
    mine = [s for s in series if s["label"].startswith("your ")]
    return mine, [s for s in series if not s["label"].startswith("your ")]


@pytest.mark.parametrize("assignment", ["02_optimizers", "03_regularization"])
def test_a_correct_submission_s_curves_are_the_reference_s(assignment, zygote):
    items = convergence_items(SUBMISSIONS / assignment / "correct" / "loop.py", assignment, zygote)
    assert items
    for line_id, item in items.items():
        assert item["status"] == "passed", line_id
        mine, ref = curves(item)
        assert len(mine) == len(ref) >= 1, line_id
        for m, r in zip(mine, ref, strict=True):
            assert m["x"] == r["x"] and len(m["x"]) >= 20, line_id
            if line_id in RANDOM_MASKS:
                assert m["y"][-1] == pytest.approx(r["y"][-1], rel=0.25), line_id
            else:
                assert m["y"] == pytest.approx(r["y"], rel=1e-3), line_id


@pytest.mark.parametrize("name", ["bn1d_running_stats_never_written", "dropout_not_rescaled"])
def test_a_caught_bug_shows_a_curve_apart_from_the_reference(name, zygote, tmp_path):
    wrong = next(w for w in KNOWN_WRONG if w.name == name)
    path = tmp_path / f"{load_rubric(wrong.assignment).module}.py"
    path.write_text(wrong.mutated_source())
    items = convergence_items(path, wrong.assignment, zygote)
    (line_id,) = [i for i in wrong.fails if i.endswith(".convergence")]
    item = items[line_id]
    assert item["status"] == "failed"
    (mine,), (ref,) = curves(item)
    assert mine["x"] == ref["x"] and mine["y"] != pytest.approx(ref["y"], rel=1e-2)
    assert "<polyline" in plots.svg(item["plot"])
