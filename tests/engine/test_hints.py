"""The likely-misreading hints (grading/hints.py): a failed case whose numbers equal a known misreading's
names it; a correct submission and a bug nobody has catalogued get no hint; a rubric can turn them off.
(That every catalogued misreading gets its own hint is checked with the corpus, test_engine_corpus.py.)"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from autograder.families.reproduce import block, place
from autograder.grading import hints
from autograder.grading.engine import grade_submission
from autograder.grading.results import student_record
from autograder.grading.rubric import assignment_ids, load_rubric
from autograder.records import CheckResult
from autograder.tasks.hints import misreadings

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
CASE = ("the update differs from torch.optim.Adam's. The case: Adam(lr=0.1), float64, 1 parameter, 1 step.\n"
        "after step 1: params[0]: expected 1.50099999996, got 1.5031622736601735\n")


def test_a_signature_is_the_case_and_its_numbers_not_how_they_are_shown():
    code = block("import torch", "print('got:', 1)")
    as_py = place(CASE + code, "optimizers", "optimizers.py", False)
    as_nb = place(CASE + code, "optimizers", "02_optimizers.ipynb", True)
    noisy = CASE.replace("1.5031622736601735", "1.5031622736601741")  # the last bits of another formula
    assert hints.signature(as_py) == hints.signature(as_nb) == hints.signature(noisy)
    assert hints.signature(CASE.replace("1.5031622736601735", "1.5032")) != hints.signature(CASE)
    assert hints.signature(CASE.replace("lr=0.1", "lr=0.01")) != hints.signature(CASE)
    hinted = hints.hint_text("Forgets the bias correction.") + "\n" + CASE
    assert hints.signature(hinted) == hints.signature(CASE)


def test_the_first_failed_line_of_a_name_gets_the_hint_and_only_where_hints_are_on(monkeypatch):
    rubric = load_rubric("02_optimizers")
    lines = rubric.lines_of("Adam")
    checks = [CheckResult(line.id, "failed", CASE) for line in lines[1:3]]
    known = {hints.key("Adam", [(c.id, c.feedback) for c in checks]):
             {"name": "adam_x", "hint": "Forgets the bias correction."}}
    monkeypatch.setattr(hints, "table", lambda assignment: known)
    out = hints.add_hints(checks, rubric)
    assert out[0].feedback.startswith(hints.hint_text("Forgets the bias correction."))
    assert out[1].feedback == CASE  # the hint once per graded name
    assert hints.add_hints(checks, dataclasses.replace(rubric, hints=False)) == checks
    # a key is every failed line of the name: one more failed line (another case) is another misreading
    more = [*checks, CheckResult(lines[3].id, "failed", CASE.replace("lr=0.1", "lr=0.01"))]
    assert hints.add_hints(more, rubric) == more


@pytest.mark.parametrize("assignment", assignment_ids())
def test_each_table_names_catalogued_misreadings_only(assignment):
    wrong = {name: reason for name, (_, reason, _) in misreadings(assignment).items()}
    table = hints.table(assignment)
    assert all(row["name"] in wrong and row["hint"] == wrong[row["name"]] for row in table.values())
    names = set(load_rubric(assignment).graded_names)
    assert all(k.split(" ")[0] in names for k in table)


# Bugs that are in no catalogue: wrong, but no known misreading's numbers.
UNCATALOGUED = [
    ("02_optimizers", "correct/loop.py", "            lr_decay = group[\"lr_decay\"]\n",
     "            lr_decay = group[\"lr_decay\"] * 1.5\n"),
    ("02_optimizers", "correct/loop.py", "            beta1, beta2 = group[\"betas\"]\n",
     "            beta1, beta2 = group[\"betas\"]\n            beta2 = beta2 ** 1.01\n"),
]


@pytest.mark.optimizers
@pytest.mark.parametrize(("assignment", "base", "old", "new"), UNCATALOGUED, ids=["adagrad", "adam"])
def test_a_bug_nobody_catalogued_gets_no_hint(assignment, base, old, new, zygote, tmp_path):
    rubric = load_rubric(assignment)
    text = (SUBMISSIONS / assignment / base).read_text()
    assert text.count(old) == 1
    path = tmp_path / f"{rubric.module}.py"
    path.write_text(text.replace(old, new))
    record = student_record(grade_submission(path, rubric, zygote), rubric)
    assert any(i["status"] == "failed" for i in record["items"])
    assert not [i["id"] for i in record["items"] if hints.LEAD in i["feedback"]]


@pytest.mark.parametrize("assignment", assignment_ids())
def test_a_correct_submission_gets_no_hint(assignment, zygote):
    rubric = load_rubric(assignment)
    path = SUBMISSIONS / assignment / "correct" / "loop.py"
    record = student_record(grade_submission(path, rubric, zygote), rubric)
    assert record["score"] == record["max_score"]
    assert not [i["id"] for i in record["items"] if hints.LEAD in i["feedback"]]
