"""Gradescope results.json: status mapping, hidden lines after_published, no hidden feedback."""

from __future__ import annotations

import json

import pytest

from autograder.reporters.gradescope import gradescope_status, write_gradescope
from autograder.reporters.visibility import HIDDEN_FEEDBACK
from autograder.results import STATUSES

from .records import SECRET, build_record


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("status", STATUSES)
def test_status_mapping(rubric, status, tmp_path):
    line = rubric.lines[0]
    record = build_record(rubric, "s1", {line.id: status})
    doc = load(write_gradescope(record, rubric, tmp_path))
    test = next(t for t in doc["tests"] if t["name"] == line.id)
    assert test["status"] == ("passed" if status == "passed" else "failed")
    assert gradescope_status(status) == test["status"]


def test_schema_and_visibility(rubric, secret_record, tmp_path):
    path = write_gradescope(secret_record, rubric, tmp_path)
    assert path == tmp_path / "results" / "s001" / "results.json"
    doc = load(path)
    assert doc["score"] == secret_record["score"]
    assert doc["stdout_visibility"] == "hidden"
    assert [t["name"] for t in doc["tests"]] == [line.id for line in rubric.lines]
    for test, line, item in zip(doc["tests"], rubric.lines, secret_record["items"], strict=True):
        assert (test["score"], test["max_score"]) == (item["score"], item["max_score"])
        expected = "after_published" if line.visibility == "hidden" else "visible"
        assert test["visibility"] == expected
    assert sum(t["score"] for t in doc["tests"]) == pytest.approx(doc["score"])


def test_hidden_feedback_never_in_gradescope_output(
    rubric, secret_record, hidden_line, visible_line, tmp_path
):
    raw = write_gradescope(secret_record, rubric, tmp_path).read_text(encoding="utf-8")
    assert SECRET not in raw
    doc = json.loads(raw)
    tests = {t["name"]: t for t in doc["tests"]}
    assert tests[hidden_line.id]["output"] == HIDDEN_FEEDBACK
    assert tests[hidden_line.id]["status"] == "failed"
    assert "step 3: got 0.5" in tests[visible_line.id]["output"]


def test_output_summarises_score_and_errors(rubric, tmp_path):
    record = build_record(rubric, "s1", {rubric.lines[0].id: "error"}, errors=["SyntaxError in cell 4"])
    doc = load(write_gradescope(record, rubric, tmp_path))
    assert "SyntaxError in cell 4" in doc["output"]
    assert f"/ {rubric.max_score:g} points" in doc["output"]
