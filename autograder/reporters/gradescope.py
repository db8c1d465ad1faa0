"""Gradescope's autograder ``results.json``, one per student under ``DIR/results/<student>/``.

Mapping (DESIGN.md): item status ``passed`` → ``passed``, every other status → ``failed``. A hidden rubric
line shows its status and points like every channel does (``student_view``); its details come in an
``after_published`` companion test until the grades are published (``gradescope_results``).
Program output of the grader is never shown (``stdout_visibility: hidden``).
"""

from __future__ import annotations

from pathlib import Path

from ._common import fmt_points, paired_items, student_filename, write_text
from .json_report import dumps
from .visibility import is_hidden, student_view


def gradescope_status(status: str) -> str:
    """Gradescope knows only passed and failed: error, timeout, forbidden and missing are failures."""
    return "passed" if status == "passed" else "failed"


def summary_output(record: dict, rubric) -> str:
    """The short top-level text: the total, then the errors and review notes of the run."""
    title = rubric.title or rubric.assignment
    lines = [f"{title}: {fmt_points(record['score'])} / {fmt_points(record['max_score'])} points."]
    if record.get("graded_file"):
        lines.append(f"Graded file: {record['graded_file']}")
    errors = record.get("errors", [])
    if errors:
        lines.append("Errors:")
        lines.extend(f"- {error}" for error in errors)
    flags = record.get("flags", [])
    if flags:
        lines.append("Flagged for review by a TA:")
        lines.extend(f"- {flag.get('message', '')}" for flag in flags)
    return "\n".join(lines)


def gradescope_results(record: dict, rubric, *, published: bool = False) -> dict:
    """The Gradescope document of one student, built from the student view of the record.

    Every rubric line is a visible test with its status and points, as in the kit's HTML. Until the
    grades are published, a hidden line that did not pass also gets a 0-point companion test
    ``<id> (details)`` with its feedback and Gradescope's ``after_published`` visibility: Gradescope's
    own "Publish Grades" then shows the details, just as ``make publish`` does for the other channels.
    """
    view = student_view(record, rubric, published=published)
    full = {item["id"]: item for item in record["items"]}
    tests = []
    for _, item in paired_items(view, rubric):
        test = {
            "name": item["id"],
            "score": item["score"],
            "max_score": item["max_score"],
            "status": gradescope_status(item["status"]),
            "output": item["feedback"],
            "output_format": "text",
            "visibility": "visible",
        }
        tests.append(test)
        details = full[item["id"]]["feedback"]
        if is_hidden(item, rubric) and not published and item["status"] != "passed" and details:
            tests.append(
                {
                    **test,
                    "name": f"{item['id']} (details)",
                    "score": 0.0,
                    "max_score": 0.0,
                    "output": details,
                    "visibility": "after_published",
                }
            )
    return {
        "score": view["score"],
        "output": summary_output(view, rubric),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(record: dict, rubric, out_dir: Path, *, published: bool = False) -> Path:
    """Write ``out_dir/results/<student>/results.json`` and return the path."""
    name = student_filename(record["student"])
    path = Path(out_dir) / "results" / name / "results.json"
    return write_text(path, dumps(gradescope_results(record, rubric, published=published)))
