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

import traceback
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


def _without_plots(record: dict) -> dict:
    return {**record, "items": [{k: v for k, v in item.items() if k != "plot"} for item in record["items"]]}


def _guarded(write, record: dict, faults: list[str] | None) -> list[Path]:
    """``write(record)``; a failure costs that student's file only: retried without pictures, then
    reported to the TA (``faults``, for run.json) while the other students' files are written."""
    for attempt in (record, _without_plots(record)):
        try:
            return [write(attempt)]
        except Exception:  # noqa: BLE001 - one student's page or record never stops the class
            error = traceback.format_exc(limit=3)
    if faults is not None:
        faults.append(f"{record.get('student')}: a report could not be written: {error}")
    return []


def write_student_views(records: list[dict], rubric, out_dir: Path, *, published: bool,
                        faults: list[str] | None = None) -> list[Path]:
    """(Re)write the student-facing files of ``records``: feedback HTML and Gradescope results. A student
    whose file cannot be written costs only that file (``faults`` says why)."""
    def gradescope(record: dict) -> Path:
        return write_gradescope(record, rubric, out_dir, published=published)

    def page(record: dict) -> Path:
        return write_feedback_html(record, rubric, out_dir, published=published)

    paths = []
    for record in sorted(records, key=lambda r: r["student"]):
        paths += _guarded(gradescope, record, faults) + _guarded(page, record, faults)
    return paths


def write_all(records: list[dict], rubric, out_dir: Path, timings: dict, run_info: dict) -> list[Path]:
    """Write every report of one run into ``out_dir`` and return the paths written.

    Student-facing files show hidden details when ``run_info["published"]`` is true (``make publish``).

    ``run.json`` gets ``run_info`` plus the assignment and the per-student ``timings`` (sorted by
    student) unless ``run_info`` already has them, and ``report_faults``: a student file that could not be
    written (the others are). Every record is checked against the rubric, and student ids must be
    distinct, before any file is written.
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

    faults: list[str] = []
    paths = [path for record in sorted(records, key=lambda r: r["student"])
             for path in _guarded(lambda r: write_student_json(r, out_dir), record, faults)]
    published = bool(info.get("published"))
    paths += write_student_views(records, rubric, out_dir, published=published, faults=faults)
    paths.append(write_grades_csv(records, rubric, out_dir / "grades.csv"))
    if faults:
        info["report_faults"] = faults
    paths.append(write_run_json(info, out_dir))
    return paths
