"""``make publish``: after the deadline, show the details of hidden checks in every student-visible output.

Until then a hidden rubric line shows its status and points but not its feedback, the same way in the
kit's HTML, Gradescope's results and nbgrader's feedback (``reporters.visibility``). Publishing
regenerates, from the records already graded (nothing is regraded):

- in each kit output folder of the assignment (``grades/<assignment>/`` and ``grades/nbgrader/
  <assignment>/`` by default, or the ``--out`` folders): ``feedback/*.html`` and
  ``results/*/results.json``; ``run.json`` remembers it, so a later regrade into that folder stays
  published;
- nbgrader's feedback pages (``feedback/<student>/<assignment>/``), when ``autograded/`` holds the
  assignment: ``generate_feedback`` with ``KitFeedback.published``.

Gradescope shows the details itself once the instructor publishes the grades there (the details are
``after_published`` tests, see ``reporters.gradescope``).
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

from ..grading.rubric import load_rubric
from ..reporters import write_student_views
from ..reporters.json_report import write_run_json
from .autograde import records_dir
from .nbgrader_course import REPO, course_config, coursedir_of, run_converter
from .outdir import MANIFEST, OutputConflict, read_contents, read_record


def publish_folder(folder: Path, assignment: str) -> int:
    """Regenerate the student files of one kit output folder with hidden details; return the student count."""
    contents = read_contents(folder)
    if contents is None or contents.assignment != assignment:
        held = "nothing" if contents is None else f"grades of {contents.assignment}"
        raise OutputConflict(f"{folder}/ holds {held}, not grades of {assignment}")
    records = [read_record(folder / f"{student}.json") for student in sorted(contents.students)]
    damaged = [s for s, r in zip(sorted(contents.students), records, strict=True) if r is None]
    if damaged:
        raise OutputConflict(f"{folder}/: unreadable records of {', '.join(damaged)}; grade the class again")
    write_student_views(records, load_rubric(assignment), folder, published=True)
    info = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    info["published"] = True
    info["published_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    write_run_json(info, folder)
    return len(records)


def autograded_students(config, assignment: str) -> list[str]:
    coursedir = coursedir_of(config, assignment)
    autograded = Path(coursedir.root) / coursedir.autograded_directory
    if not autograded.is_dir():
        return []
    return sorted(p.name for p in autograded.iterdir() if (p / assignment).is_dir())


def publish(assignment: str, *, outs: list[Path] | None = None, course: Path | None = None) -> int:
    """Publish every output of ``assignment`` (see the module docstring); return the exit status."""
    from nbgrader.converters import GenerateFeedback

    course = Path(course or REPO).resolve()
    folders = outs or [
        p for p in (course / "grades" / assignment, records_dir(course, assignment)) if p.exists()
    ]
    done = 0
    for folder in folders:
        try:
            count = publish_folder(Path(folder), assignment)
        except OutputConflict as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"published {count} students in {folder}/ (feedback/*.html, results/*/results.json)")
        done += 1
    config = course_config(course) if (course / "nbgrader_config.py").is_file() else None
    students = autograded_students(config, assignment) if config is not None else []
    if students:
        config.KitFeedback.published = True
        error = run_converter(GenerateFeedback, config, assignment)
        if error:
            print(f"error: nbgrader generate_feedback failed: {error}", file=sys.stderr)
            return 1
        feedback = coursedir_of(config, assignment).feedback_directory
        print(f"published nbgrader feedback of {len(students)} students in {feedback}/*/{assignment}/")
        done += 1
    if not done:
        print(
            f"error: nothing graded for {assignment} yet: run make grade or make autograde first "
            "(or give OUT=<kit output folder>)",
            file=sys.stderr,
        )
        return 2
    return 0


def main(assignment: str, *, outs: list[Path] | None = None, course: Path | None = None) -> int:
    return publish(assignment, outs=outs, course=course)
