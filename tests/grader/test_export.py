"""`make export`: one row per student and graded assignment from nbgrader's gradebook (through nbgrader's
API) and the kit's output folders, with warnings on duplicates and on an empty export; an assignment
released but not graded yet has no rows; `ASSIGNMENT=` (`--assignment`) keeps one assignment."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder import cli
from autograder.tasks import export
from autograder.tasks.nbgrader_course import quiet_nbgrader

A = "02_optimizers"


def kit_folder(folder: Path, assignment: str, scores: dict[str, float], *, mtime: float | None = None):
    folder.mkdir(parents=True)
    for student, score in scores.items():
        record = {"student": student, "assignment": assignment, "score": score, "max_score": 44.0}
        (folder / f"{student}.json").write_text(json.dumps({**record, "items": []}))
    (folder / "run.json").write_text(json.dumps({"assignment": assignment, "students": sorted(scores)}))
    if mtime is not None:
        os.utime(folder / "run.json", (mtime, mtime))
    return folder


def gradebook(path: Path, scores: dict[str, float | None], assignment: str = A) -> str:
    """A gradebook of one assignment with one 10-point test cell; None: a student with no submission.
    Called again on the same file, it adds another assignment."""
    url = f"sqlite:///{path}"
    with quiet_nbgrader(), Gradebook(url) as gb:  # alembic on PATH for a new gradebook, no SAWarnings
        gb.add_assignment(assignment)
        gb.add_notebook(assignment, assignment)
        gb.add_grade_cell("test_SGD", assignment, assignment, max_score=10, cell_type="code")
        for student, score in scores.items():
            gb.update_or_create_student(student)
            if score is not None:
                gb.add_submission(assignment, student)
                gb.find_grade("test_SGD", assignment, assignment, student).auto_score = score
        gb.db.commit()
    return str(path)


def rows(out: Path) -> list[tuple[str, str, str, str]]:
    return [(r["student"], r["assignment"], r["score"], r["source"]) for r in csv.DictReader(out.open())]


def test_the_gradebook_is_read_through_nbgrader_with_a_zero_for_no_submission(tmp_path):
    db = gradebook(tmp_path / "gradebook.db", {"ann": 7.0, "bo": None})
    out = tmp_path / "export.csv"
    assert export.main([], out, db) == 0
    assert rows(out) == [("ann", A, "7", "gradebook"), ("bo", A, "0", "gradebook (no submission)")]


def test_gradebook_and_kit_folders_give_one_row_per_student_and_assignment(tmp_path, capsys):
    db = gradebook(tmp_path / "gradebook.db", {"ann": 7.0})
    grades = tmp_path / "grades"
    kit_folder(grades / A, A, {"ann": 7.0, "cara": 30.0})
    kit_folder(grades / "01_gradient_descent", "01_gradient_descent", {"ann": 17.0})
    kit_folder(grades / "nbgrader" / A, A, {"ann": 7.0, "eve": 12.0})  # make autograde's records; eve
    # handed in a .py file only, which nbgrader cannot take: her grade comes from the kit's record
    kit_folder(grades / "samples" / A, A, {"alice": 44.0})  # the bundled sample class
    kit_folder(grades / f"{A}.staging", A, {"dan": 1.0})  # an unfinished run
    out = tmp_path / "export.csv"
    assert export.main([grades], out, db) == 0
    got = rows(out)
    keys = [("ann", "01_gradient_descent"), ("ann", A), ("cara", A), ("eve", A)]
    assert [(s, a) for s, a, _, _ in got] == keys
    sources = {(s, a): src for s, a, _, src in got}
    assert sources[("ann", A)] == "gradebook" and sources[("eve", A)] == str(grades / "nbgrader" / A)
    err = capsys.readouterr().err
    assert f"1 student(s) found in gradebook and {grades / A} (same score)" in err
    assert "nbgrader" not in err  # make autograde's record of a gradebook grade is not a duplicate


def test_a_class_under_two_output_folders_is_one_row_each_and_a_warning(tmp_path, capsys):
    grades = tmp_path / "grades"
    kit_folder(grades / "old", A, {"ann": 10.0, "bo": 20.0}, mtime=1_000_000)
    kit_folder(grades / A, A, {"ann": 12.0, "bo": 20.0}, mtime=2_000_000)
    out = tmp_path / "export.csv"
    assert export.main([grades], out) == 0
    assert [(s, sc) for s, _, sc, _ in rows(out)] == [("ann", "12"), ("bo", "20")]
    assert {src for *_, src in rows(out)} == {str(grades / A)}  # the most recent run
    err = capsys.readouterr().err
    assert "with different scores" in err and "ann (12 vs 10)" in err
    assert "(same score)" in err and "bo" in err


def test_no_grades_at_all_is_a_warning_and_no_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./gradebook.db
    (tmp_path / "grades").mkdir()
    out = tmp_path / "grades" / "export.csv"
    assert export.main([tmp_path / "grades"], out) == 1
    assert "no grades found" in capsys.readouterr().err and not out.exists()


def test_a_missing_gradebook_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        export.collect([], str(tmp_path / "nope.db"))
    assert export.main([], tmp_path / "x.csv", str(tmp_path / "nope.db")) == 2


def test_an_assignment_released_but_not_graded_has_no_rows(tmp_path):
    db = gradebook(tmp_path / "gradebook.db", {"ann": 7.0, "bo": None})
    gradebook(tmp_path / "gradebook.db", {"ann": None, "bo": None}, "03_regularization")  # released only
    out = tmp_path / "export.csv"
    assert export.main([], out, db) == 0
    assert rows(out) == [("ann", A, "7", "gradebook"), ("bo", A, "0", "gradebook (no submission)")]


def test_export_of_one_assignment(tmp_path, capsys):
    db = gradebook(tmp_path / "gradebook.db", {"ann": 7.0, "bo": 3.0})
    gradebook(tmp_path / "gradebook.db", {"ann": 9.0, "bo": None}, "03_regularization")
    grades = tmp_path / "grades"
    kit_folder(grades / "01_gradient_descent", "01_gradient_descent", {"ann": 17.0})
    kit_folder(grades / "03_regularization", "03_regularization", {"cara": 30.0})
    out = tmp_path / "export.csv"
    assert export.main([grades], out, db) == 0
    assert {a for _, a, _, _ in rows(out)} == {A, "03_regularization", "01_gradient_descent"}
    argv = ["export", str(grades), "--gradebook", db, "--out", str(out), "--assignment", "03_regularization"]
    assert cli.main(argv) == 0
    assert rows(out) == [
        ("ann", "03_regularization", "9", "gradebook"),
        ("bo", "03_regularization", "0", "gradebook (no submission)"),
        ("cara", "03_regularization", "30", str(grades / "03_regularization")),
    ]
    assert "(3 students; 03_regularization)" in capsys.readouterr().out
    argv[-1] = "01_gradient_descent"
    assert cli.main([*argv, "--assignment", A]) == 0
    assert sorted({(s, a) for s, a, _, _ in rows(out)}) == [
        ("ann", "01_gradient_descent"), ("ann", A), ("bo", A)
    ]


def test_an_assignment_with_no_grades_is_a_warning_and_no_file(tmp_path, capsys):
    db = gradebook(tmp_path / "gradebook.db", {"ann": 7.0})
    out = tmp_path / "export.csv"
    assert export.main([], out, db, ["03_regularization"]) == 1
    assert "no grades of 03_regularization found" in capsys.readouterr().err and not out.exists()
