"""Gradescope results.json: status mapping, hidden lines shown as everywhere, details after_published."""

from __future__ import annotations

import json

import pytest

from autograder.grading.results import STATUSES
from autograder.reporters.gradescope import gradescope_status, write_gradescope
from autograder.reporters.visibility import HIDDEN_FEEDBACK

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


def test_schema_and_visibility(rubric, secret_record, hidden_line, tmp_path):
    path = write_gradescope(secret_record, rubric, tmp_path)
    assert path == tmp_path / "results" / "s001" / "results.json"
    doc = load(path)
    assert doc["score"] == secret_record["score"]
    assert doc["stdout_visibility"] == "hidden"
    lines = [t for t in doc["tests"] if not t["name"].endswith(" (details)")]
    assert [t["name"] for t in lines] == [line.id for line in rubric.lines]
    for test, item in zip(lines, secret_record["items"], strict=True):
        # every line shows its status and points now, hidden ones too (as in the HTML and nbgrader)
        assert (test["score"], test["max_score"]) == (item["score"], item["max_score"])
        assert test["visibility"] == "visible"
    details = [t for t in doc["tests"] if t["name"].endswith(" (details)")]
    assert [t["name"] for t in details] == [f"{hidden_line.id} (details)"]  # the failed hidden line
    assert details[0]["visibility"] == "after_published" and details[0]["max_score"] == 0
    names = [t["name"] for t in doc["tests"]]
    assert names.index(details[0]["name"]) == names.index(hidden_line.id) + 1
    assert sum(t["score"] for t in doc["tests"]) == pytest.approx(doc["score"])


def test_hidden_details_reach_gradescope_only_behind_after_published(
    rubric, secret_record, hidden_line, visible_line, tmp_path
):
    doc = load(write_gradescope(secret_record, rubric, tmp_path))
    tests = {t["name"]: t for t in doc["tests"]}
    assert tests[hidden_line.id]["output"] == HIDDEN_FEEDBACK
    assert tests[hidden_line.id]["status"] == "failed"
    assert "step 3: got 0.5" in tests[visible_line.id]["output"]
    carriers = [t for t in doc["tests"] if SECRET in json.dumps(t)]
    assert carriers and all(t["visibility"] == "after_published" for t in carriers)
    assert SECRET not in doc["output"]


def test_published_results_show_the_details_in_the_line_itself(rubric, secret_record, hidden_line, tmp_path):
    doc = load(write_gradescope(secret_record, rubric, tmp_path, published=True))
    tests = {t["name"]: t for t in doc["tests"]}
    assert SECRET in tests[hidden_line.id]["output"]
    assert all(t["visibility"] == "visible" for t in doc["tests"])
    assert [t["name"] for t in doc["tests"]] == [line.id for line in rubric.lines]


def test_output_summarises_score_and_errors(rubric, tmp_path):
    record = build_record(rubric, "s1", {rubric.lines[0].id: "error"}, errors=["SyntaxError in cell 4"])
    doc = load(write_gradescope(record, rubric, tmp_path))
    assert "SyntaxError in cell 4" in doc["output"]
    assert f"/ {rubric.max_score:g} points" in doc["output"]


REPRO = "```python\nimport torch\nprint('got:', torch.ones(2) * 2)\n```"


def test_outputs_are_markdown_with_the_reproducer_as_a_code_block(rubric, visible_line, tmp_path):
    feedback = f"state_dict differs: got a*b, expected [1] <x>\nTo see it yourself, run this:\n{REPRO}"
    record = build_record(rubric, "s1", {visible_line.id: "failed"}, feedback={visible_line.id: feedback})
    doc = load(write_gradescope(record, rubric, tmp_path))
    assert doc["output_format"] == "md" and {t["output_format"] for t in doc["tests"]} == {"md"}
    output = next(t for t in doc["tests"] if t["name"] == visible_line.id)["output"]
    # the code block is fenced Markdown, the prose is literal text (no emphasis, no link, no tag)
    assert "```python\nimport torch\nprint('got:', torch.ones(2) * 2)\n```" in output
    assert r"state_dict differs: got a\*b, expected \[1\] \<x\>" in output  # a_b inside a word stays
    assert "\n\nTo see it yourself, run this:\n\n```python" in output  # each prose line a paragraph


def test_no_word_about_a_plot_gradescope_cannot_show(rubric, visible_line, tmp_path):
    feedback = ("zig-zag valley: after 150 steps the loss is 0.0002852; a correct implementation reaches "
                "1.946e-06 (the plot shows both loss curves)")
    record = build_record(rubric, "s1", {visible_line.id: "failed"}, feedback={visible_line.id: feedback})
    output = next(t for t in load(write_gradescope(record, rubric, tmp_path))["tests"]
                  if t["name"] == visible_line.id)["output"]
    assert "plot" not in output and output.endswith("reaches 1.946e-06")


def test_a_passed_hidden_line_promises_nothing(rubric, hidden_line, tmp_path):
    record = build_record(rubric, "s1")  # every line passed
    for published in (False, True):
        tests = load(write_gradescope(record, rubric, tmp_path, published=published))["tests"]
        test = next(t for t in tests if t["name"] == hidden_line.id)
        assert test["status"] == "passed" and test["output"] == ""
        assert HIDDEN_FEEDBACK not in json.dumps(tests) and "published" not in json.dumps(tests)
