"""Console summary: numbers computed right for a small made-up class, readable off a terminal."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from autograder.grading.rubric import load_rubric
from autograder.reporters.summary import SUMMARY_WIDTH, pass_rates, print_summary, summary_console

from .records import build_record

STUDENTS = ("ann", "ben", "cat", "dan")


@pytest.fixture
def small_class():
    """Four students on 01_gradient_descent; rubric line k is passed by the first (k % 5) students.

    So passed counts cycle 0, 1, 2, 3, 4, 0, ... and every rate from 0% to 100% appears. Failures
    cycle through the non-passed statuses to check the per-student counts.
    """
    rubric = load_rubric("01_gradient_descent")
    others = ("failed", "error", "timeout", "forbidden", "missing")
    expected_passed = {line.id: k % 5 for k, line in enumerate(rubric.lines)}
    records = []
    for s, student in enumerate(STUDENTS):
        statuses = {
            line.id: others[(k + s) % len(others)]
            for k, line in enumerate(rubric.lines)
            if s >= expected_passed[line.id]
        }
        records.append(build_record(rubric, student, statuses))
    timings = {"ann": 1.25, "ben": 9.5, "cat": 3.0, "dan": 7.75}
    return rubric, records, timings, expected_passed


def render(records, rubric, timings) -> str:
    console = Console(record=True, width=SUMMARY_WIDTH, color_system=None)
    print_summary(records, rubric, timings, console=console)
    return console.export_text()


def test_pass_rates(small_class):
    rubric, records, _, expected_passed = small_class
    assert pass_rates(records, rubric) == [(line.id, expected_passed[line.id], 4) for line in rubric.lines]


def test_pass_rate_table_printed(small_class):
    rubric, records, timings, expected_passed = small_class
    text = render(records, rubric, timings)
    item_rows = [row for row in text.splitlines() if re.search(r"\d+/4 ", row)]
    assert len(item_rows) == len(rubric.lines)
    for row, line in zip(item_rows, rubric.lines, strict=True):  # rubric order
        n = expected_passed[line.id]
        assert line.id in row
        assert f" {n}/4 " in row and f" {100 * n / 4:.1f}% " in row


def test_overview_and_students(small_class):
    rubric, records, timings, _ = small_class
    text = render(records, rubric, timings)
    scores = sorted(r["score"] for r in records)
    out_of = f"/ {rubric.max_score:g}"
    assert f"{sum(scores) / 4:.2f} {out_of}" in text
    assert f"{(scores[1] + scores[2]) / 2:g} {out_of}" in text
    assert f"{scores[0]:g} {out_of}" in text and f"{scores[-1]:g} {out_of}" in text

    rows = {}
    for row in text.splitlines():
        cells = [c.strip() for c in row.strip("│┃ ").split("│")]
        if cells[0] in STUDENTS and len(cells) == 6:
            rows[cells[0]] = cells
    by_score = sorted(records, key=lambda r: (-r["score"], r["student"]))
    assert list(rows) == [r["student"] for r in by_score]
    for record in records:
        statuses = [item["status"] for item in record["items"]]
        student, score, failed, not_run, seconds, graded_file = rows[record["student"]]
        assert graded_file == record.get("graded_file", "-")
        assert float(score) == record["score"]
        assert int(failed) == statuses.count("failed")
        assert int(not_run) == len(statuses) - statuses.count("passed") - statuses.count("failed")
        assert seconds == f"{timings[student]:.1f}"


def test_three_slowest(small_class):
    rubric, records, timings, _ = small_class
    text = render(records, rubric, timings)
    slowest = text.split("3 slowest submissions", 1)[1]
    names = re.findall(r"│ (\w+)\s+│\s+[\d.]+ │", slowest)
    assert names == ["ben", "dan", "cat"]


def test_plain_text_off_a_terminal(small_class, capsys):
    rubric, records, timings, _ = small_class
    assert summary_console().width == SUMMARY_WIDTH  # pytest captures stdout: not a TTY
    print_summary(records, rubric, timings)
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    assert max(len(row) for row in out.splitlines()) <= SUMMARY_WIDTH
    assert "Pass rate per item" in out


def test_markup_in_student_ids_printed_literally():
    rubric = load_rubric("01_gradient_descent")
    text = render([build_record(rubric, "[bold]x[/bold]")], rubric, {})
    assert "[bold]x[/bold]" in text


def test_empty_class():
    rubric = load_rubric("01_gradient_descent")
    assert "no students graded" in render([], rubric, {})
