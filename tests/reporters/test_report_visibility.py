"""The one visibility filter: hidden lines keep their points and status, never their feedback."""

from __future__ import annotations

import copy

from autograder.reporters.visibility import HIDDEN_FEEDBACK, is_hidden, student_view

from .records import SECRET


def test_hidden_feedback_replaced_points_and_status_kept(secret_record, hidden_line):
    view = student_view(secret_record)
    before = next(i for i in secret_record["items"] if i["id"] == hidden_line.id)
    after = next(i for i in view["items"] if i["id"] == hidden_line.id)
    assert after["feedback"] == HIDDEN_FEEDBACK
    for key in ("id", "status", "score", "max_score"):
        assert after[key] == before[key]
    assert SECRET not in repr(view)


def test_published_view_keeps_hidden_feedback_and_the_hidden_mark(secret_record, hidden_line):
    view = student_view(secret_record, published=True)
    item = next(i for i in view["items"] if i["id"] == hidden_line.id)
    assert SECRET in item["feedback"] and item["visibility"] == "hidden"


def test_visible_items_and_record_untouched(secret_record, visible_line):
    original = copy.deepcopy(secret_record)
    view = student_view(secret_record)
    assert secret_record == original  # the TA copy still has the secret
    assert SECRET in repr(secret_record)
    item = next(i for i in view["items"] if i["id"] == visible_line.id)
    assert item["feedback"].startswith("visible feedback:")
    assert view["errors"] == secret_record["errors"]


def test_rubric_visibility_wins_over_record(secret_record, rubric, hidden_line):
    """A record that lost its visibility field cannot un-hide a line the rubric hides."""
    tampered = copy.deepcopy(secret_record)
    for item in tampered["items"]:
        item.pop("visibility")
    assert SECRET in repr(student_view(tampered))  # without the rubric nothing says it is hidden
    view = student_view(tampered, rubric)
    assert SECRET not in repr(view)
    assert is_hidden(next(i for i in view["items"] if i["id"] == hidden_line.id), rubric)
