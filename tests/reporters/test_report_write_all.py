"""write_all: every file of DESIGN.md's contract, byte-identical on regrade apart from run.json."""

from __future__ import annotations

import json

import pytest

from autograder.grading.rubric import load_rubric
from autograder.reporters import write_all

from .records import SECRET, build_record


@pytest.fixture
def records(rubric, secret_record):
    return [build_record(rubric, "s002", {rubric.lines[3].id: "forbidden"}), secret_record]


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_writes_every_file(rubric, records, tmp_path):
    paths = write_all(
        records, rubric, tmp_path, {"s001": 2.0, "s002": 1.0}, {"jobs": 2, "isolation": "process"}
    )
    expected = {
        "s001.json", "s002.json", "run.json", "grades.csv",
        "results/s001/results.json", "results/s002/results.json",
        "feedback/s001.html", "feedback/s002.html",
    }  # fmt: skip
    assert set(snapshot(tmp_path)) == expected
    assert {p.relative_to(tmp_path).as_posix() for p in paths} == expected
    run = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert run == {
        "assignment": rubric.assignment,
        "isolation": "process",
        "jobs": 2,
        "timings": {"s001": 2.0, "s002": 1.0},
    }
    # The secret is only in the TA copy, and in Gradescope's results behind after_published.
    leaks = [name for name, data in snapshot(tmp_path).items() if SECRET.encode() in data]
    assert leaks == ["results/s001/results.json", "s001.json"]
    tests = json.loads((tmp_path / "results/s001/results.json").read_text())["tests"]
    assert all(t["visibility"] == "after_published" for t in tests if SECRET in t["output"])


def test_a_published_run_shows_hidden_details_in_every_student_file(rubric, records, tmp_path):
    write_all(records, rubric, tmp_path, {"s001": 2.0, "s002": 1.0}, {"jobs": 1, "published": True})
    leaks = [name for name, data in snapshot(tmp_path).items() if SECRET.encode() in data]
    assert leaks == ["feedback/s001.html", "results/s001/results.json", "s001.json"]


def test_regrade_byte_identical_except_run_json(rubric, records, tmp_path):
    write_all(records, rubric, tmp_path / "a", {"s001": 2.0, "s002": 1.0}, {"jobs": 1})
    write_all(records[::-1], rubric, tmp_path / "b", {"s001": 5.0, "s002": 4.0}, {"jobs": 8})
    first, second = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert first.pop("run.json") != second.pop("run.json")
    assert first == second


def test_refuses_bad_input_before_writing(rubric, records, tmp_path):
    with pytest.raises(ValueError, match="duplicate student ids: s001"):
        write_all([*records, records[1]], rubric, tmp_path / "dup", {}, {})
    other = build_record(load_rubric("03_regularization"), "s003")
    with pytest.raises(ValueError, match="03_regularization"):
        write_all([*records, other], rubric, tmp_path / "mixed", {}, {})
    assert not (tmp_path / "dup").exists() and not (tmp_path / "mixed").exists()


@pytest.mark.parametrize(
    ("student", "problem"),
    [
        ("alice", None),
        ("José", None),
        ("anna maria", None),
        ("s.smith@uni+1", None),
        ("run", "output folder uses"),
        ("Grades", "output folder uses"),
        ("back\\slash", "may hold only"),
        ("../escape", "may hold only"),
        (".hidden", "may hold only"),
        ("_underscore", "may hold only"),
        ("trailing ", "may hold only"),
        ("x" * 252, "bytes long"),
    ],
)
def test_student_ids_are_checked_per_student(student, problem):
    from autograder.reporters._common import id_problem, safe_id, student_filename

    got = id_problem(student)
    assert (got is None) if problem is None else (problem in got), got
    safe = safe_id(student)
    assert safe.startswith("_invalid-") and id_problem(safe) is not None  # never a valid id: no collision
    assert student_filename(safe) == safe and safe != safe_id(student + "x")
