"""One status per cause, with its own wording, the same on every line it touches; a crash located by the
cell's definitions and the quoted line; one summary line instead of N copies of one message.

The released stubs getting ``missing`` everywhere with one summary line is tested with the notebooks
(tests/notebooks/test_nb_grade.py); here one notebook mixes a crash, a stub and correct classes.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from autograder.grading.engine import grade_submission
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


def test_module_level_code_that_raises_costs_only_what_it_was_to_define(zygote, tmp_path):
    """Module-level statements run one by one, as a notebook's cells do: a statement that raises is
    reported once, with its line, and costs only the names it was to define."""
    source = (ROOT / "tests/submissions" / A / "correct/loop.py").read_text()
    start = source.index("class Adam(")
    path = tmp_path / "optimizers.py"
    path.write_text(source + "\nraise RuntimeError('left over from an experiment')\n")
    rubric = load_rubric(A)
    record = student_record(grade_submission(path, rubric, zygote), rubric)
    assert record["score"] == record["max_score"]
    assert len(record["errors"]) == 1 and "left over from an experiment" in record["errors"][0]
    last = len((source + "\n").splitlines()) + 1
    assert f"line {last}:" in record["errors"][0] and "raise RuntimeError(" in record["errors"][0]
    # the class Adam itself raises while it is defined: only Adam's lines are lost, and they say why
    broken = source[:start] + "assert False, 'a failing self-check'\n" + source[start:].replace(
        "class Adam(", "class Adam(1 / 0 and ", 1)
    path.write_text(broken)
    record = student_record(grade_submission(path, rubric, zygote), rubric)
    lost = {i["id"]: i for i in record["items"] if i["score"] < i["max_score"]}
    assert set(lost) == {line.id for line in rubric.lines_of("Adam")}
    for item in lost.values():
        assert item["status"] == "missing" and "ZeroDivisionError" in item["feedback"], item
    assert any("a failing self-check" in e for e in record["errors"])
