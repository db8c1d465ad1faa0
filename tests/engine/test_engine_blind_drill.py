"""The blind drill's bugs (``tests/submissions/blind_drill/``): single-bug submissions written by someone
who saw only the released notebooks and the README, each verified against torch or by hand (the
manifest says how). Every one must lose a line of its own graded name and nothing of another name; the
drill's correct solution and the one entry the contract allows get full marks. One class run per
assignment, as a TA would grade them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autograder.grading import hints
from autograder.grading.batch import grade_class
from autograder.grading.rubric import load_rubric

DRILL = Path(__file__).resolve().parents[1] / "submissions" / "blind_drill"
MANIFEST = json.loads((DRILL / "manifest.json").read_text())
MARKS = {"01_gradient_descent": pytest.mark.gradient_descent, "03_regularization": pytest.mark.regularization}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", [pytest.param(a, marks=m) for a, m in MARKS.items()])
def test_every_blind_bug_loses_only_its_own_names_lines(assignment, tmp_path):
    rubric = load_rubric(assignment)
    rows = [r for r in MANIFEST if r["file"].startswith(assignment + "/")]
    assert len(rows) >= 20
    paths = []
    for name in [Path(r["file"]).stem for r in rows] + ["_correct"]:
        folder = tmp_path / name.replace("_correct", "drill_correct")
        folder.mkdir()
        shutil.copy(DRILL / assignment / f"{name}.py", folder / f"{rubric.module}.py")
        paths.append(folder)
    records, _, _ = grade_class(paths, rubric, jobs=2)
    lost = {r["student"]: {i["id"] for i in r["items"] if i["score"] < i["max_score"]} for r in records}
    assert lost.pop("drill_correct") == set()
    wrong = {}
    for row in rows:
        got = lost[Path(row["file"]).stem]
        own = {line for line in got if line.split(".")[0] == row["graded_name"]}
        if row.get("not_a_bug"):
            ok = not got
        else:
            ok = bool(own) and own == got
        if not ok:
            wrong[row["file"]] = (row["bug"], sorted(got))
    assert not wrong, wrong
    # a drill bug with a signature of its own (make hints) is named on its lines; a hint shown is the
    # table's for that very case (a drill bug with a corpus entry's case and numbers gets the entry's)
    table = hints.table(assignment)
    listed = {v["name"] for v in table.values()}
    for record in records:
        hinted = [i for i in record["items"] if i["feedback"].startswith(hints.LEAD)]
        failed = hints.failed_by_name(record["items"], rubric)
        for item in hinted:
            name = item["id"].split(".")[0]
            found = table.get(hints.key(name, failed[name]))
            assert found and item["feedback"].startswith(hints.hint_text(found["hint"])), item["id"]
        if record["student"] == "drill_correct":
            assert not hinted
        elif f"drill:{record['student']}" in listed:
            assert hinted, f"{record['student']} has a signature of its own but got no hint: run make hints"
