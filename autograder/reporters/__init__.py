"""Reporters: pure functions from per-student records (``results.student_record``) to files.

No grading happens here. Student-facing files (Gradescope, HTML) go through the one visibility filter,
``visibility.student_view``; the full record stays in ``DIR/<student>.json`` for TAs.

Layout of ``DIR`` (DESIGN.md, "CLI and result contract")::

    DIR/<student>.json                  full record, deterministic bytes
    DIR/run.json                        timings, isolation level, versions, jobs (time-dependent)
    DIR/grades.csv                      one row per student
    DIR/results/<student>/results.json  Gradescope schema
    DIR/feedback/<student>.html         feedback page
"""

from __future__ import annotations

from pathlib import Path

from ._common import paired_items, student_filename
from .csv_report import write_grades_csv
from .gradescope import write_gradescope
from .html import write_feedback_html
from .json_report import write_run_json, write_student_json
from .summary import print_summary
from .visibility import HIDDEN_FEEDBACK, student_view

__all__ = [
    "HIDDEN_FEEDBACK",
    "print_summary",
    "student_view",
    "write_all",
    "write_feedback_html",
    "write_grades_csv",
    "write_gradescope",
    "write_run_json",
    "write_student_json",
    "write_student_views",
]


def write_student_views(records: list[dict], rubric, out_dir: Path, *, published: bool) -> list[Path]:
    """(Re)write the student-facing files of ``records``: feedback HTML and Gradescope results."""
    paths = []
    for record in sorted(records, key=lambda r: r["student"]):
        paths.append(write_gradescope(record, rubric, out_dir, published=published))
        paths.append(write_feedback_html(record, rubric, out_dir, published=published))
    return paths


def write_all(records: list[dict], rubric, out_dir: Path, timings: dict, run_info: dict) -> list[Path]:
    """Write every report of one run into ``out_dir`` and return the paths written.

    Student-facing files show hidden details when ``run_info["published"]`` is true (``make publish``).

    ``run.json`` gets ``run_info`` plus the assignment and the per-student ``timings`` (sorted by
    student) unless ``run_info`` already has them. Every record is checked against the rubric, and
    student ids must be distinct, before any file is written.
    """
    out_dir = Path(out_dir)
    students = [student_filename(record["student"]) for record in records]
    if len(set(students)) != len(students):
        duplicates = sorted({s for s in students if students.count(s) > 1})
        raise ValueError(f"duplicate student ids: {', '.join(duplicates)}")
    for record in records:
        paired_items(record, rubric)

    info = dict(run_info)
    info.setdefault("assignment", rubric.assignment)
    info.setdefault("timings", {s: timings[s] for s in sorted(timings)})

    paths = [write_student_json(record, out_dir) for record in sorted(records, key=lambda r: r["student"])]
    paths += write_student_views(records, rubric, out_dir, published=bool(info.get("published")))
    paths.append(write_grades_csv(records, rubric, out_dir / "grades.csv"))
    paths.append(write_run_json(info, out_dir))
    return paths
