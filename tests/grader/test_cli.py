"""The command line contract of DESIGN.md: exit codes, output files, byte-identical regrades."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
CORRECT = ROOT / "tests/submissions/02_optimizers/correct/loop.py"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_unknown_assignment_is_a_command_line_error(tmp_path):
    proc = run_cli("grade", "--assignment", "04_nope", str(CORRECT), "--out", str(tmp_path))
    assert (
        proc.returncode == 2
        and "unknown assignment '04_nope'" in proc.stderr
        and "02_optimizers" in proc.stderr
    )


def test_missing_path_is_a_command_line_error(tmp_path):
    proc = run_cli(
        "grade", "--assignment", "02_optimizers", str(tmp_path / "ghost.py"), "--out", str(tmp_path)
    )
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr


@pytest.mark.slow
def test_a_small_class_is_graded_reported_and_regraded_identically(tmp_path):
    cls = tmp_path / "class"
    cls.mkdir()
    shutil.copy(CORRECT, cls / "ann.py")
    (cls / "ben.py").write_text("class SGD(:\n")
    (cls / "cy.py").write_text("X = 1\n")
    (cls / "cy.ipynb").write_text("{}")  # same id twice: an error for cy only
    out1, out2 = tmp_path / "out1", tmp_path / "out2"
    paths = [str(p) for p in sorted(cls.iterdir())]
    first = run_cli("grade", "--assignment", "02_optimizers", *paths, "--out", str(out1), "--jobs", "2")
    assert first.returncode == 0, first.stderr
    rubric = load_rubric("02_optimizers")
    records = {s: json.loads((out1 / f"{s}.json").read_text()) for s in ("ann", "ben", "cy")}
    assert records["ann"]["score"] == rubric.max_score
    assert [i["id"] for i in records["ben"]["items"]] == [line.id for line in rubric.lines]
    assert records["ben"]["score"] == 0 and "SyntaxError" in records["ben"]["errors"][0]
    assert "share the student id 'cy'" in records["cy"]["errors"][0]
    assert all(r["max_score"] == rubric.max_score for r in records.values())
    for name in ("grades.csv", "run.json", "results/ann/results.json", "feedback/ann.html"):
        assert (out1 / name).is_file(), name
    assert "isolation" in json.loads((out1 / "run.json").read_text())
    second = run_cli("grade", "--assignment", "02_optimizers", *paths, "--out", str(out2), "--quiet")
    assert second.returncode == 0, second.stderr
    for s in records:
        assert (out1 / f"{s}.json").read_bytes() == (out2 / f"{s}.json").read_bytes()
    assert (out1 / "grades.csv").read_bytes() == (out2 / "grades.csv").read_bytes()


def test_unknown_isolation_level_is_a_command_line_error(tmp_path):
    proc = run_cli(
        "grade", "--assignment", "02_optimizers", str(CORRECT), "--out", str(tmp_path), "--isolation", "x"
    )
    assert proc.returncode == 2 and "unknown isolation level 'x'" in proc.stderr


def test_a_bad_review_file_is_a_command_line_error(tmp_path):
    grants = tmp_path / "review.toml"
    grants.write_text("[alice]\nSGD = 'not a digest'\n")
    proc = run_cli("grade", "--assignment", "02_optimizers", str(CORRECT), "--out", str(tmp_path / "o"),
                   "--grant-review", str(grants))
    assert proc.returncode == 2 and "sha256" in proc.stderr


def test_review_files_read_as_json_or_toml(tmp_path):
    from autograder.grading.review import load_grants

    digest = "ab" * 32
    (tmp_path / "g.json").write_text(json.dumps({"alice": {"SGD": digest}}))
    (tmp_path / "g.toml").write_text(f'[alice]\nSGD = "{digest}"\n')
    assert load_grants(tmp_path / "g.json") == load_grants(tmp_path / "g.toml") == {"alice": {"SGD": digest}}
