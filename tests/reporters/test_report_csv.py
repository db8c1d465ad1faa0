"""grades.csv: header in rubric order, one row per student sorted by id, values equal to the records."""

from __future__ import annotations

import csv

import pytest

from autograder.grading.rubric import assignment_ids, load_rubric
from autograder.reporters.csv_report import write_grades_csv

from .records import build_record


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("assignment", assignment_ids())
def test_header_is_rubric_order(assignment, tmp_path):
    rubric = load_rubric(assignment)
    path = write_grades_csv([build_record(rubric, "s1")], rubric, tmp_path / "grades.csv")
    header = read_rows(path)[0]
    assert header == ["student", *[line.id for line in rubric.lines], "score", "max_score", "errors", "flags"]


def test_rows_sorted_and_equal_to_item_scores(rubric, tmp_path):
    first, second, third = rubric.lines[0], rubric.lines[1], rubric.lines[2]
    records = [
        build_record(rubric, "zed", {first.id: "timeout"}, errors=["timed out"]),
        build_record(
            rubric,
            "amy",
            {first.id: "failed", second.id: "failed"},
            fractions={first.id: 0.5, second.id: 1 / 3},
            flags=[{"kind": "review", "message": "m", "lines": [1]}],
        ),
        build_record(rubric, "bob", {third.id: "missing"}, errors=["e1", "e2"]),
    ]
    rows = read_rows(write_grades_csv(records, rubric, tmp_path / "grades.csv"))
    assert [row[0] for row in rows[1:]] == ["amy", "bob", "zed"]
    by_student = {r["student"]: r for r in records}
    for row in rows[1:]:
        record = by_student[row[0]]
        n = len(rubric.lines)
        assert [float(x) for x in row[1 : 1 + n]] == [item["score"] for item in record["items"]]
        assert float(row[1 + n]) == record["score"]
        assert float(row[2 + n]) == record["max_score"] == rubric.max_score
        assert int(row[3 + n]) == len(record["errors"])
        assert int(row[4 + n]) == len(record.get("flags", []))
    amy = rows[1]
    assert amy[1] == f"{first.points * 0.5:g}"  # no float noise such as 0.5000000001
    assert float(amy[2]) == round(second.points / 3, 6)
    assert [row[-2:] for row in rows[1:]] == [["0", "1"], ["2", "0"], ["1", "0"]]


def test_record_of_another_assignment_is_refused(rubric, tmp_path):
    other = load_rubric("01_gradient_descent")
    with pytest.raises(ValueError, match="rubric"):
        write_grades_csv([build_record(other, "s1")], rubric, tmp_path / "grades.csv")
