"""Per-student feedback page ``DIR/feedback/<student>.html``: self-contained, no external assets (one
inline script: the copy buttons of the reproducers; the page reads fully without it).

The page renders ``student_view(record, rubric)`` only. Autoescape is on: feedback is derived from the
student's own output, so it must never be able to inject markup.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from ..families import reproduce
from . import plots
from ._common import fmt_points, paired_items, student_filename, write_text
from .visibility import is_hidden, student_view

TEMPLATE_DIR = Path(__file__).parent / "templates"


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the reporters' templates (autoescape on, undefined names are errors)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _segments(text: str) -> list[tuple[str, bool]]:
    """Split a rubric description on backticks: ``(text, is_code)`` pieces, rendered with ``<code>``."""
    return [(part, i % 2 == 1) for i, part in enumerate(text.split("`")) if part]


def _flag(flag: dict) -> dict:
    """A review flag for the template: its ``lines`` as line numbers (``"3, 7"``) or as code lines."""
    lines = flag.get("lines", [])
    numbers = all(isinstance(x, int) for x in lines)
    return {
        "kind": flag.get("kind", "review"),
        "message": flag.get("message", ""),
        "line_numbers": ", ".join(str(x) for x in lines) if numbers else "",
        "code": "" if numbers else "\n".join(str(x) for x in lines),
    }


# One status per cause, in words a student reads first (results.py holds the closed set).
STATUS_LABELS = {
    "passed": "passed",
    "failed": "wrong result",
    "error": "your code crashed",
    "timeout": "timed out",
    "missing": "not implemented yet",
    "forbidden": "forbidden",
    "review": "waiting for a TA's review",
}


def feedback_parts(text: str) -> list[tuple[str, bool]]:
    """A feedback text as ``(text, is_code)`` pieces: prose, and the reproducer blocks as code."""
    parts, last = [], 0
    for match in reproduce.BLOCK.finditer(text):
        if text[last:match.start()].strip():
            parts.append((text[last:match.start()].strip("\n"), False))
        parts.append((match.group(1), True))
        last = match.end()
    if text[last:].strip():
        parts.append((text[last:].strip("\n"), False))
    return parts


def _row(line, item: dict, rubric) -> dict:
    plot = item.get("plot")
    drawn = plots.svg(plot) if plots.valid(plot) else ""
    return {
        "id": item["id"],
        "anchor": f"item-{item['id']}",
        "check": line.check,
        "score": fmt_points(item["score"]),
        "max_score": fmt_points(item["max_score"]),
        "status": item["status"],
        "status_label": STATUS_LABELS.get(item["status"], item["status"]),
        "hidden": is_hidden(item, rubric),
        "description": _segments(line.description),
        "feedback": item["feedback"],
        "feedback_parts": feedback_parts(item["feedback"]),
        "plot": drawn,
        "plot_caption": str(plot.get("caption", "")) if drawn else "",
    }


def feedback_context(record: dict, rubric, *, published: bool = False) -> dict:
    """The template's data, from the student view of the record: what is not passed first (with its
    reproducer and plot), the curves of passed lines, then the score by part and the passed lines."""
    view = student_view(record, rubric, published=published)
    pairs = paired_items(view, rubric)
    groups = []
    for name in rubric.graded_names:
        rows = [_row(line, item, rubric) for line, item in pairs if line.name == name]
        earned = sum(item["score"] for line, item in pairs if line.name == name)
        groups.append(
            {
                "name": name,
                "score": fmt_points(earned),
                "max_score": fmt_points(rubric.points_of(name)),
                "rows": rows,
                "passed": sum(row["status"] == "passed" for row in rows),
            }
        )
    rows = [row for group in groups for row in group["rows"]]
    details = _state_once([row for row in rows if row["status"] != "passed"])
    flags = [_flag(flag) for flag in view.get("flags", [])]
    return {
        "student": view["student"],
        "assignment": view["assignment"],
        "title": rubric.title or view["assignment"],
        "graded_file": view.get("graded_file", ""),
        "score": fmt_points(view["score"]),
        "max_score": fmt_points(view["max_score"]),
        "groups": groups,
        "details": details,
        "failing": [{"id": row["id"], "anchor": row["anchor"], "status_label": row["status_label"]}
                    for row in details],
        "passed": [row for row in rows if row["status"] == "passed"],
        "plotted_passed": [row for row in rows if row["status"] == "passed" and row["plot"]],
        "errors": list(view.get("errors", [])),
        "flags": [flag for flag in flags if flag["kind"] == "review"],
        "notes": [flag for flag in flags if flag["kind"] != "review"],
    }


def _state_once(rows: list[dict]) -> list[dict]:
    """A message shared by several lines (a file that cannot be loaded, a name that is missing) is shown
    under the first of them; the others say so instead of repeating it."""
    first: dict[str, str] = {}
    for row in rows:
        text = row["feedback"].strip()
        if not text:
            continue
        if text in first:
            row["feedback_parts"] = [(f"The same message as under {first[text]} above.", False)]
            row["same_as"] = first[text]
        else:
            first[text] = row["id"]
    return rows


def render_feedback_html(record: dict, rubric, *, published: bool = False) -> str:
    """The feedback page of one student as a string."""
    context = feedback_context(record, rubric, published=published)
    return environment().get_template("feedback.html.j2").render(context)


def write_feedback_html(record: dict, rubric, out_dir: Path, *, published: bool = False) -> Path:
    """Write ``out_dir/feedback/<student>.html`` and return the path."""
    name = student_filename(record["student"])
    page = render_feedback_html(record, rubric, published=published)
    return write_text(Path(out_dir) / "feedback" / f"{name}.html", page)
