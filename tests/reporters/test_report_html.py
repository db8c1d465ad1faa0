"""Feedback page: escaped, self-contained, grouped by graded name, no hidden feedback."""

from __future__ import annotations

import re

import pytest

from autograder.reporters.html import render_feedback_html, write_feedback_html
from autograder.reporters.visibility import HIDDEN_FEEDBACK

from .records import SECRET, build_record

INJECTION = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def page(rubric, secret_record, tmp_path):
    path = write_feedback_html(secret_record, rubric, tmp_path)
    assert path == tmp_path / "feedback" / "s001.html"
    return path.read_text(encoding="utf-8")


def test_hidden_feedback_never_in_html(page):
    assert SECRET not in page
    assert HIDDEN_FEEDBACK in page


def test_published_page_shows_the_hidden_details(rubric, secret_record, hidden_line):
    page = render_feedback_html(secret_record, rubric, published=True)
    assert SECRET in page and HIDDEN_FEEDBACK not in page
    row = page.split(f'<code>{hidden_line.id}</code>', 1)[1].split("</tr>", 1)[0]
    assert "(hidden)" in row and "0 / " in row  # still marked hidden, points as before


def test_feedback_is_escaped(rubric, tmp_path):
    line = rubric.lines[0]
    record = build_record(
        rubric,
        "s1",
        {line.id: "error"},
        feedback={line.id: INJECTION},
        errors=[INJECTION],
        flags=[{"kind": "review", "message": INJECTION, "lines": ["import os  # <b>"]}],
    )
    html = render_feedback_html(record, rubric)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 3


def test_feedback_whitespace_kept_in_pre(page):
    assert "<pre>visible feedback:\n    step 3: got 0.5, expected 0.25</pre>" in page


def test_self_contained(page):
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    assert "<style>" in page
    for forbidden in ("<script", "<link", "src=", "http://", "https://", "@import"):
        assert forbidden not in page


def test_items_grouped_by_graded_name(rubric, page):
    captions = re.findall(r"<caption>(\w+):", page)
    assert captions == list(rubric.graded_names)
    for line in rubric.lines:
        assert f"<code>{line.id}</code>" in page
    assert "Total: " in page and f"/ {rubric.max_score:g} points" in page
    assert rubric.title in page


def test_only_non_passed_feedback_shown(rubric, tmp_path):
    passed, failed = rubric.lines[0], rubric.lines[1]
    record = build_record(
        rubric, "s1", {failed.id: "timeout"}, feedback={passed.id: "PASSED-NOTE", failed.id: "TIMEOUT-NOTE"}
    )
    html = render_feedback_html(record, rubric)
    assert "PASSED-NOTE" not in html
    assert "<pre>TIMEOUT-NOTE</pre>" in html
    assert f'href="#item-{failed.id}"' in html and f'id="item-{failed.id}"' in html


def test_errors_and_review_flags_listed(rubric):
    record = build_record(
        rubric,
        "s1",
        errors=["cell 3: SyntaxError"],
        flags=[{"kind": "review", "message": "calls torch.optim.Adam", "lines": [12, 14]}],
    )
    html = render_feedback_html(record, rubric)
    assert "cell 3: SyntaxError" in html
    assert "calls torch.optim.Adam (lines 12, 14)" in html


def test_regrade_is_byte_identical(rubric, secret_record, tmp_path):
    first = write_feedback_html(secret_record, rubric, tmp_path / "a").read_bytes()
    assert write_feedback_html(secret_record, rubric, tmp_path / "b").read_bytes() == first
