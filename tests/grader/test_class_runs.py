"""Grades are never lost or mixed: output folders remember what they hold, runs are atomic and resume,
the sample class has a folder of its own, and `make clean` keeps students' work and real grades."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from autograder import cli
from autograder.grading.rubric import load_rubric
from autograder.tasks import outdir
from autograder.tasks.classrun import ClassRun, run_class
from autograder.tasks.outdir import OutputConflict, Staging, check_target

ROOT = Path(__file__).resolve().parents[2]
A = "02_optimizers"
CHEAP = "import torch\n\n\nclass SGD(torch.optim.Optimizer):\n    pass\n"  # loads, grades in milliseconds


def make_class(folder: Path, students: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in students.items():
        (folder / f"{name}.py").write_text(text)
    return sorted(folder.glob("*.py"))


def grade(*args: str) -> int:
    return cli.main(["grade", "--quiet", *args])


def snapshot(folder: Path) -> dict[str, bytes]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


def records(folder: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json") if p.name != "run.json"}


# --- refusing a folder that holds other grades ------------------------------------------------------


def test_another_class_never_overwrites_a_folder_without_force(tmp_path, capsys):
    real = make_class(tmp_path / "real", {"alice": CHEAP, "bob": "X = 1\n", "frank": "def f(:\n"})
    out = tmp_path / "grades" / A
    assert grade("--assignment", A, *map(str, real), "--out", str(out)) == 0
    before = snapshot(out)
    assert len((out / "grades.csv").read_text().splitlines()) == 4

    samples = sorted((ROOT / "tests/submissions" / A / "sample_class").iterdir())  # alice, bob, ... erin
    assert grade("--assignment", A, *map(str, samples), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "another set of students" in err and "--force" in err and "frank" in err
    assert snapshot(out) == before  # not one byte of the real class changed

    other = make_class(tmp_path / "other", {"alice": CHEAP, "bob": "X = 1\n", "frank": "def f(:\n"})
    assert grade("--assignment", "03_regularization", *map(str, other), "--out", str(out)) == 2
    assert "holds grades of 02_optimizers, not 03_regularization" in capsys.readouterr().err
    assert snapshot(out) == before


def test_force_replaces_the_whole_folder_so_no_stale_student_stays(tmp_path):
    out = tmp_path / "out"
    first = make_class(tmp_path / "c1", {"ann": CHEAP, "zed": CHEAP})
    assert grade("--assignment", A, *map(str, first), "--out", str(out)) == 0
    second = make_class(tmp_path / "c2", {"ann": "X = 2\n"})
    assert grade("--assignment", A, *map(str, second), "--out", str(out), "--force") == 0
    assert set(records(out)) == {"ann"}
    assert not (out / "feedback" / "zed.html").exists() and not (out / "results" / "zed").exists()
    assert len((out / "grades.csv").read_text().splitlines()) == 2
    assert json.loads((out / "run.json").read_text())["students"] == ["ann"]


def test_a_rerun_of_the_same_class_needs_no_force_and_is_byte_identical(tmp_path):
    paths = make_class(tmp_path / "c", {"ann": CHEAP, "ben": "def f(:\n"})
    out = tmp_path / "out"
    assert grade("--assignment", A, *map(str, paths), "--out", str(out)) == 0
    first = {s: (out / f"{s}.json").read_bytes() for s in ("ann", "ben")}
    assert grade("--assignment", A, *map(str, paths), "--out", str(out)) == 0
    assert {s: (out / f"{s}.json").read_bytes() for s in ("ann", "ben")} == first


def test_a_folder_the_kit_did_not_write_is_refused_even_with_force(tmp_path):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    with pytest.raises(OutputConflict, match="did not write"):
        check_target(mine, A, {"ann"}, force=True)
    assert (mine / "chapter1.tex").read_text() == "precious"


def test_out_may_not_contain_the_submissions(tmp_path, capsys):
    paths = make_class(tmp_path / "c", {"ann": CHEAP})
    with pytest.raises(SystemExit) as exc:
        grade("--assignment", A, *map(str, paths), "--out", str(tmp_path))
    assert exc.value.code == 2
    assert "must be neither a submission nor inside or around one" in capsys.readouterr().err


# --- atomic runs and --resume -----------------------------------------------------------------------


class Interrupt(KeyboardInterrupt):
    pass


def test_an_interrupted_run_leaves_out_untouched_and_resumes_without_regrading(tmp_path):
    paths = make_class(tmp_path / "c", {"ann": CHEAP, "ben": "X = 1\n", "cy": "def f(:\n"})
    out = tmp_path / "out"
    assert grade("--assignment", A, *map(str, paths[:1]), "--out", str(out)) == 0  # an older run
    before = snapshot(out)

    def stop_after_first(sid):
        raise Interrupt

    with pytest.raises(KeyboardInterrupt):
        run_class(ClassRun(load_rubric(A), paths, out, force=True), on_done=stop_after_first)
    assert snapshot(out) == before  # the old folder is complete and unmixed
    staging = Staging(out, A)
    assert list(staging.finished()) == ["ann"] and (staging.dir / "ann.json").is_file()

    (paths[1]).write_text("X = 2\n")  # ben changed his file after the interruption
    seen: list[str] = []
    result = run_class(ClassRun(load_rubric(A), paths, out, force=True, resume=True), on_done=seen.append)
    assert result.reused == ["ann"] and sorted(seen) == ["ben", "cy"]
    assert not staging.dir.exists() and set(records(out)) == {"ann", "ben", "cy"}
    fresh = tmp_path / "fresh"
    assert grade("--assignment", A, *map(str, paths), "--out", str(fresh)) == 0
    for s in ("ann", "ben", "cy"):
        assert (out / f"{s}.json").read_bytes() == (fresh / f"{s}.json").read_bytes()


def test_a_leftover_staging_folder_is_never_silently_discarded(tmp_path, capsys):
    paths = make_class(tmp_path / "c", {"ann": CHEAP, "ben": "X = 1\n"})
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run = ClassRun(load_rubric(A), paths, out)
        run_class(run, on_done=lambda sid: (_ for _ in ()).throw(Interrupt()))
    assert grade("--assignment", A, *map(str, paths), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "interrupted run (1 students graded)" in err and "--resume" in err
    assert grade("--assignment", A, *map(str, paths), "--out", str(out), "--resume") == 0
    assert set(records(out)) == {"ann", "ben"}


def test_a_torn_journal_line_or_record_is_not_reused(tmp_path):
    staging = Staging(tmp_path / "out", A)
    staging.open({"ann", "ben"}, force=False, resume=False)
    record = {"student": "ann", "assignment": A, "score": 1.0, "max_score": 2.0, "items": []}
    staging.save(record, "h-ann", 1.5)
    (staging.dir / "ben.json").write_text('{"student": "ben", "assi')  # killed while writing
    with open(staging.dir / outdir.JOURNAL, "a") as fh:
        fh.write('{"student": "ben", "hash": "h-b')
    assert staging.finished() == {"ann": ("h-ann", 1.5)}
    assert set(staging.reusable({"ann": "h-ann", "ben": "h-ben"}, from_out=False)) == {"ann"}
    assert staging.reusable({"ann": "changed"}, from_out=False) == {}


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"assignment": A, "students": []}))
    staging = Staging(out, A)
    staging.dir.mkdir()
    real_rename = os.rename

    def failing_rename(src, dst):
        if Path(src) == staging.dir:
            raise OSError("disk full")
        real_rename(src, dst)

    monkeypatch.setattr(outdir.os, "rename", failing_rename)
    with pytest.raises(OSError):
        staging.swap()
    assert (out / "run.json").is_file() and not staging.replaced.exists()


def test_a_half_done_swap_is_reported_not_guessed(tmp_path):
    out = tmp_path / "out"
    Staging(out, A).replaced.mkdir(parents=True)
    with pytest.raises(OutputConflict, match="move out.replaced back to out"):
        Staging(out, A).open({"ann"}, force=True, resume=False)


# --- which assignment, which folder -----------------------------------------------------------------


def nbgrader_class(root: Path, layout: dict[str, list[str]]) -> Path:
    submitted = root / "submitted"
    for student, assignments in layout.items():
        for assignment in assignments:
            folder = submitted / student / assignment
            folder.mkdir(parents=True)
            (folder / "optimizers.py").write_text(CHEAP)
    return submitted


def test_submissions_without_assignment_take_it_from_nbgrader_layout(tmp_path, capsys):
    submitted = nbgrader_class(tmp_path, {"ann": [A], "ben": [A], "cy": []})
    (submitted / "cy").mkdir(exist_ok=True)
    out = tmp_path / "out"
    assert grade(*map(str, sorted(submitted.iterdir())), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert f"assignment {A}" in printed and "without a 02_optimizers/ submission: cy" in printed
    assert set(records(out)) == {"ann", "ben"}
    assert records(out)["ann"]["graded_file"] == f"{A}/optimizers.py"


def test_an_ambiguous_or_flat_class_without_assignment_says_what_to_type(tmp_path, capsys):
    submitted = nbgrader_class(tmp_path, {"ann": [A, "03_regularization"]})
    with pytest.raises(SystemExit):
        grade(*map(str, submitted.iterdir()), "--out", str(tmp_path / "o"))
    assert "several assignments (02_optimizers, 03_regularization)" in capsys.readouterr().err
    flat = make_class(tmp_path / "flat", {"ann": CHEAP})
    with pytest.raises(SystemExit):
        grade(*map(str, flat), "--out", str(tmp_path / "o"))
    assert "make grade ASSIGNMENT=ID SUBMISSIONS=" in capsys.readouterr().err


def test_a_folder_with_two_candidates_grades_the_notebook_and_flags_it(tmp_path):
    folder = tmp_path / "c" / "dora"
    folder.mkdir(parents=True)
    (folder / "optimizers.py").write_text("def f(:\n")  # stale export
    nb = {
        "cells": [
            {"cell_type": "code", "source": CHEAP, "metadata": {}, "outputs": [], "execution_count": None}
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (folder / f"{A}.ipynb").write_text(json.dumps(nb))
    out = tmp_path / "out"
    assert grade("--assignment", A, str(folder), "--out", str(out)) == 0
    record = records(out)["dora"]
    assert record["graded_file"] == f"{A}.ipynb" and not record["errors"]
    flag = next(f for f in record["flags"] if f["kind"] == "several_files")
    assert flag["lines"] == ["optimizers.py"] and f"{A}.ipynb was graded" in flag["message"]
    html = (out / "feedback" / "dora.html").read_text()
    assert f"Graded file: <code>{A}.ipynb</code>" in html and "not graded: optimizers.py" in html
    assert "Graded file: 02_optimizers.ipynb" in (out / "results/dora/results.json").read_text()


def make_dry(*args: str) -> str:
    proc = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_make_grade_sends_the_sample_class_to_a_folder_of_its_own():
    text = make_dry("grade", f"ASSIGNMENT={A}")
    assert f"-m autograder grade-samples --assignment {A} --jobs 2" in text
    everything = make_dry("grade")
    assert "-m autograder grade-samples --jobs 2" in everything  # every class, one lane pool
    real = make_dry("grade", f"ASSIGNMENT={A}", "SUBMISSIONS=submitted")
    assert f"grade --assignment {A} submitted/*" in real and "--out" not in real.split("autograder grade")[1]


def test_grade_samples_writes_each_sample_class_to_grades_samples(monkeypatch, tmp_path):
    from autograder.grading.batch import Lanes

    monkeypatch.chdir(tmp_path)
    args = cli._parser().parse_args(["grade-samples", "--jobs", "2"])
    args.grants = {}
    lanes = Lanes(2, "rlimits")
    runs = cli._sample_runs(cli._parser(), args, lanes)
    assert [r.out for r in runs] == [Path("grades/samples") / a for a in cli.assignment_ids()]
    assert all(r.lanes is lanes for r in runs)  # one pool for the whole run
    assert {p.name for p in runs[1].paths} == {"alice.py", "bob.py", "carol.py", "dave", "erin.py"}
    assert all((tmp_path / p).exists() for p in runs[1].paths)
    with pytest.raises(SystemExit):
        args.out = tmp_path / "x"  # one folder cannot take three classes
        cli._sample_runs(cli._parser(), args, lanes)


def test_make_grade_passes_submissions_without_assignment_and_the_safety_flags():
    text = make_dry("grade", "SUBMISSIONS=submitted", "FORCE=1", "RESUME=1", "JOBS=3")
    line = next(x for x in text.splitlines() if "-m autograder grade" in x)
    assert "--assignment" not in line and "submitted/*" in line
    assert "--jobs 3" in line and "--force" in line and "--resume" in line


def test_make_clean_keeps_students_work_manual_grades_and_real_classes(tmp_path):
    keep = [
        "submitted/ann/02_optimizers/02_optimizers.ipynb",
        "autograded/ann/02_optimizers/x.ipynb",
        "feedback/ann/02_optimizers/x.html",
        "gradebook.db",
        "grades/02_optimizers/ann.json",
        "grades/nbgrader/02_optimizers/ann.json",
        "grades/02_optimizers.staging/ann.json",
        "grades/export.csv",
    ]
    gone = [
        "grades/samples/02_optimizers/alice.json",
        "dist/autograder.zip",
        ".pytest_cache/x",
        "autograder/__pycache__/x.pyc",
    ]
    for rel in keep + gone:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    proc = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [rel for rel in keep if not (tmp_path / rel).exists()] == []
    assert [rel for rel in gone if (tmp_path / rel).exists()] == []
