"""Feedback page: escaped, self-contained, failures first (passed lines collapsed), reproducers as code,
plots inline, no hidden feedback nor hidden plot before publishing."""

from __future__ import annotations

import re

import pytest

from autograder.reporters.html import render_feedback_html, write_feedback_html
from autograder.reporters.visibility import HIDDEN_FEEDBACK

from .records import SECRET, build_record

INJECTION = '<script>alert("x")</script><img src=x onerror=alert(1)>'
# the page's one script of its own (copy buttons); everything else must be inert
KIT_SCRIPT = re.compile(r"<script>\n/\* Copy buttons.*?</script>", re.DOTALL)


def without_kit_script(html: str) -> str:
    assert len(KIT_SCRIPT.findall(html)) == 1
    return KIT_SCRIPT.sub("", html)


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
    details = page.split('<h2 id="details">', 1)[1]
    row = details.split(f'<code>{hidden_line.id}</code>', 1)[1].split("</tr>", 1)[0]
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
    html = without_kit_script(render_feedback_html(record, rubric))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 3


def test_feedback_whitespace_kept_in_pre(page):
    assert '<pre class="text">visible feedback:\n    step 3: got 0.5, expected 0.25</pre>' in page


def test_long_lines_wrap_instead_of_being_cut_off(page):
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "white-space: pre-wrap" in style and "white-space: pre;" not in style


def test_self_contained(page):
    script = KIT_SCRIPT.search(page).group(0)
    assert "fetch" not in script and "src" not in script and "http" not in script
    page = without_kit_script(page)
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    assert "<style>" in page
    for forbidden in ("<script", "<link", "src=", "http://", "https://", "@import"):
        assert forbidden not in page


def test_score_by_graded_name_and_every_line_listed(rubric, page):
    parts = re.findall(r'<tr><th scope="row"><code>(\w+)</code></th>', page)
    assert parts == list(rubric.graded_names)
    for line in rubric.lines:
        assert f"<code>{line.id}</code>" in page
    assert "Total: " in page and f"/ {rubric.max_score:g} points" in page
    assert rubric.title in page


def test_failures_first_then_the_passed_lines_collapsed(rubric, tmp_path):
    passed, failed = rubric.lines[0], rubric.lines[1]
    record = build_record(
        rubric, "s1", {failed.id: "timeout"}, feedback={passed.id: "PASSED-NOTE", failed.id: "TIMEOUT-NOTE"}
    )
    html = render_feedback_html(record, rubric)
    assert "PASSED-NOTE" not in html
    assert '<pre class="text">TIMEOUT-NOTE</pre>' in html and f'id="item-{failed.id}"' in html
    collapsed = html.split("<details>", 1)[1].split("</details>", 1)[0]
    assert f"<code>{passed.id}</code>" in collapsed and f"<code>{failed.id}</code>" not in collapsed
    assert html.index("TIMEOUT-NOTE") < html.index("<details>")
    assert "timed out" in html  # the status in words


def test_a_reproducer_is_shown_as_code_after_its_explanation(rubric):
    line = rubric.lines[1]
    text = ("the update differs: got 2.0, expected 1.0\nTo see it yourself, run this:\n"
            "```python\nprint('got:', 2.0)\n```")
    record = build_record(rubric, "s1", {line.id: "failed"}, feedback={line.id: text})
    html = render_feedback_html(record, rubric)
    assert '<pre class="code"><code>print(&#39;got:&#39;, 2.0)</code></pre>' in html
    assert "```" not in html


PLOT = {"title": "zig-zag valley", "caption": "CURVE-CAPTION", "xlabel": "step", "ylabel": "loss",
        "log": True, "series": [{"label": "your SGD", "x": [0, 10, 20], "y": [4.0, 2.0, 1.0]},
                   {"label": "torch.optim.SGD", "x": [0, 10, 20], "y": [4.0, 1.0, 0.25]}]}


def test_a_plot_is_inline_svg_and_a_hidden_one_waits_for_publishing(rubric, hidden_line):
    record = build_record(rubric, "s1", {hidden_line.id: "failed"}, feedback={hidden_line.id: "LOSS-NOTE"})
    for item in record["items"]:
        if item["id"] == hidden_line.id:
            item["plot"] = PLOT
    before = render_feedback_html(record, rubric)
    assert "<svg" not in before and "CURVE-CAPTION" not in before
    after = without_kit_script(render_feedback_html(record, rubric, published=True))
    assert after.count("<svg") == 1 and "CURVE-CAPTION" in after
    # offline: nothing to fetch (the SVG's xmlns names are namespaces, never requested)
    for forbidden in ("<script", "<link", "src=", "@import", 'href="http', "xlink:href=\"http"):
        assert forbidden not in after


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


def test_the_top_lists_the_failing_lines_then_the_score_by_part(rubric):
    failed, crashed = rubric.lines[1], rubric.lines[2]
    record = build_record(rubric, "s1", {failed.id: "failed", crashed.id: "error"},
                          feedback={failed.id: "WRONG-NOTE", crashed.id: "CRASH-NOTE"})
    html = render_feedback_html(record, rubric)
    top = html.split('<h2 id="parts">', 1)[0]
    assert f'<a href="#item-{failed.id}"><code>{failed.id}</code></a>: wrong result' in top
    assert f'<a href="#item-{crashed.id}"><code>{crashed.id}</code></a>: your code crashed' in top
    assert "WRONG-NOTE" not in top
    assert html.index('<h2 id="parts">') < html.index('<h2 id="details">') < html.index("WRONG-NOTE")


def test_a_message_shared_by_many_lines_is_shown_once(rubric):
    lines = rubric.lines[:4]
    record = build_record(rubric, "s1", {line.id: "error" for line in lines},
                          feedback={line.id: "COULD-NOT-LOAD" for line in lines})
    html = render_feedback_html(record, rubric)
    assert html.count("COULD-NOT-LOAD") == 1
    assert html.count(f"The same message as under {lines[0].id} above.") == 3


def test_information_is_not_labelled_as_review(rubric):
    record = build_record(rubric, "s1", flags=[
        {"kind": "several_files", "message": "SEVERAL-FILES", "lines": ["a.py"]},
        {"kind": "review", "message": "NEEDS-A-TA", "lines": [3]}])
    html = render_feedback_html(record, rubric)
    info = html.split('<h2 id="notes">', 1)[1].split("</section>", 1)[0]
    review = html.split('<h2 id="review">', 1)[1].split("</section>", 1)[0]
    assert "SEVERAL-FILES" in info and "NEEDS-A-TA" not in info
    assert "NEEDS-A-TA" in review and "SEVERAL-FILES" not in review
    only_info = render_feedback_html(build_record(rubric, "s1", flags=[
        {"kind": "several_files", "message": "SEVERAL-FILES", "lines": ["a.py"]}]), rubric)
    assert "review by a TA" not in only_info


def test_every_reproducer_has_a_copy_button(rubric):
    line = rubric.lines[1]
    text = "differs\nTo see it yourself, run this:\n```python\nprint('got:', 2.0)\n```"
    html = render_feedback_html(build_record(rubric, "s1", {line.id: "failed"}, feedback={line.id: text}),
                                rubric)
    box = html.split('<div class="codebox">', 1)[1].split("</div>", 1)[0]
    assert "<code>print(" in box and '<button type="button" class="copy" hidden>Copy</button>' in box
