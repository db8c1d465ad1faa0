"""One status per cause, with its own wording, the same on every line it touches; a crash located by the
cell's definitions and the quoted line; one summary line instead of N copies of one message.

The released stubs getting ``missing`` everywhere with one summary line is tested with the notebooks
(tests/notebooks/test_nb_grade.py); here one notebook mixes a crash, a stub and correct classes.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from autograder.grading.engine import NOT_LOADED, grade_submission
from autograder.grading.results import student_record
from autograder.grading.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
A = "02_optimizers"
CRASH = "        scale = 1 / 0  # a crash in SGD.step"


def _break(source: str, cls: str, line: str) -> str:
    """``line`` as the first statement of ``cls.step``."""
    start = source.index(f"class {cls}(")
    header = source.index("    def step(self, closure=None):\n", start)
    cut = header + len("    def step(self, closure=None):\n")
    return source[:cut] + line + "\n" + source[cut:]


def _notebook(tmp_path: Path, source: str) -> Path:
    """The file as a notebook: one code cell per class (imports in the first), markdown in between."""
    parts = re.split(r"(?m)^(?=class )", source)
    cells = [nbformat.v4.new_markdown_cell("# Optimizers")]
    for part in parts:
        cells += [nbformat.v4.new_code_cell(part.strip("\n")), nbformat.v4.new_markdown_cell("Notes.")]
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_a_crash_a_stub_and_correct_classes_each_get_their_own_status(zygote, tmp_path):
    source = (ROOT / "tests/submissions" / A / "correct/loop.py").read_text()
    source = _break(_break(source, "SGD", CRASH), "Adam", "        raise NotImplementedError")
    rubric = load_rubric(A)
    record = student_record(grade_submission(_notebook(tmp_path, source), rubric, zygote), rubric)
    by_name: dict[str, set[str]] = {}
    for item in record["items"]:
        by_name.setdefault(item["id"].split(".")[0], set()).add(item["status"])
    assert by_name["Adagrad"] == by_name["RMSprop"] == {"passed"}
    assert by_name["SGD"] <= {"passed", "error"} and "error" in by_name["SGD"], by_name
    assert by_name["Adam"] <= {"passed", "missing"} and "missing" in by_name["Adam"], by_name
    for item in record["items"]:
        if item["status"] == "error":
            # where: the cell by what it defines (no markdown counted), the line quoted as written
            assert "ZeroDivisionError" in item["feedback"], item
            assert "the cell defining `SGD`, line " in item["feedback"], item["feedback"]
            assert "scale = 1 / 0  # a crash in SGD.step" in item["feedback"], item["feedback"]
        if item["status"] == "missing":
            assert item["feedback"].startswith("not implemented yet: `Adam`"), item
    assert not record["errors"]  # no summary: something is implemented


def test_a_file_that_cannot_load_says_so_once(zygote, tmp_path):
    source = (ROOT / "tests/submissions" / A / "correct/loop.py").read_text()
    path = tmp_path / "optimizers.py"
    path.write_text(source + "\nraise RuntimeError('left over from an experiment')\n")
    rubric = load_rubric(A)
    record = student_record(grade_submission(path, rubric, zygote), rubric)
    assert {item["feedback"] for item in record["items"]} == {NOT_LOADED}
    assert {item["status"] for item in record["items"]} == {"error"}
    assert len(record["errors"]) == 1 and "left over from an experiment" in record["errors"][0]
    last = len((source + "\n").splitlines()) + 1
    assert f"line {last} " in record["errors"][0] and "raise RuntimeError(" in record["errors"][0]
