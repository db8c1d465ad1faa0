"""What a student may see: the one place where hidden rubric lines are filtered (otter-style, at the edge).

Decision: until the grades are published, a hidden line shows its status and points everywhere (the
total is the real one) but not its feedback; ``make publish`` regenerates every student-facing output
with the feedback shown.

The full record stays in ``DIR/<student>.json`` for TAs. Every student-facing reporter (HTML, Gradescope)
renders ``student_view(record, rubric)`` and never the raw record, so hidden inputs, reference values
or tracebacks in a hidden check's feedback cannot leak through one reporter that forgot to filter.
"""

from __future__ import annotations

import copy

HIDDEN_FEEDBACK = (
    "Hidden check: its points count now; its details (the failing case) are shown when the grades are "
    "published."
)


def is_hidden(item: dict, rubric=None) -> bool:
    """Whether an item is a hidden rubric line; with a rubric, the rubric's visibility wins over the record.

    The trusted copy wins (nbgrader's rule): a record that lost or altered its ``visibility`` field
    still cannot un-hide a line the rubric hides.
    """
    if rubric is not None:
        for line in rubric.lines:
            if line.id == item["id"]:
                return line.visibility == "hidden" or item.get("visibility") == "hidden"
    return item.get("visibility") == "hidden"


def student_view(record: dict, rubric=None, *, published: bool = False) -> dict:
    """A copy of ``record`` fit for the student: hidden items keep id, status and points, and their
    feedback only once the grades are ``published`` (``make publish``). Every student-facing channel
    (HTML, Gradescope, nbgrader feedback) shows a hidden line this same way.

    ``record`` is left untouched. Everything else (errors, flags) is kept as is.
    """
    view = copy.deepcopy(record)
    for item in view["items"]:
        if is_hidden(item, rubric):
            item["visibility"] = "hidden"
            if not published:
                item["feedback"] = HIDDEN_FEEDBACK
                item.pop("plot", None)  # a picture of a hidden line is part of its details
    return view
