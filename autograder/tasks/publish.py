"""``make publish``: after the deadline, show the details of hidden checks to the students of one class.

Until then a hidden rubric line shows its status and points but not its feedback, the same way in the
kit's HTML, Gradescope's results and nbgrader's feedback (``reporters.visibility``). Publishing
regenerates, from the records already graded (nothing is regraded), exactly what it is asked to:

- ``--out DIR`` (``OUT=``, repeatable): those kit output folders and nothing else;
- ``--nbgrader`` (``NBGRADER=1``): nbgrader's class of the assignment: its feedback pages
  (``feedback/<student>/<assignment>/``, the ``.py``-only students' included), and ``make autograde``'s
  kit folder ``grades/nbgrader/<assignment>/``. The course folder remembers it
  (``nbgrader_course.mark_nbgrader_published``), so ``make feedback`` and ``make autograde`` keep the
  class published;
- neither: the default ``make grade`` folder of the assignment, ``grades/<assignment>/``.

A kit folder remembers it too (``run.json``), so a later regrade into that folder stays published.
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
from .nbgrader_course import REPO, course_config, mark_nbgrader_published
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


def publish_nbgrader(assignment: str, course: Path) -> int:
    """Publish nbgrader's class of ``assignment`` in ``course`` (module docstring); the exit status."""
    from .nbgrader_feedback import autograded_students, generate_feedback

    try:
        config = course_config(course)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    records = records_dir(course, assignment)
    if not autograded_students(config, assignment) and read_contents_or_none(records) is None:
        print(f"error: nothing graded for {assignment} in nbgrader's course {course} yet: run make "
              f"autograde ASSIGNMENT={assignment} first", file=sys.stderr)
        return 2
    marker = mark_nbgrader_published(course, assignment)
    print(f"nbgrader's class of {assignment} is published from now on ({marker}): make feedback and "
          "make autograde keep it so")
    if read_contents_or_none(records) is not None:
        try:
            count = publish_folder(records, assignment)
        except OutputConflict as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"published {count} students in {records}/ (feedback/*.html, results/*/results.json)")
    return generate_feedback(assignment, course=course, published=True)


def read_contents_or_none(folder: Path):
    try:
        return read_contents(folder)
    except OutputConflict:
        return None


def publish(
    assignment: str, *, outs: list[Path] | None = None, nbgrader: bool = False, course: Path | None = None
) -> int:
    """Publish what the arguments name (see the module docstring); return the exit status."""
    course = Path(course or REPO).resolve()
    folders = [Path(p) for p in outs or []]
    if not folders and not nbgrader:
        default = course / "grades" / assignment
        if not default.exists():
            print(
                f"error: nothing graded for {assignment} yet in {default}/: run make grade first, give "
                f"OUT=<kit output folder>, or publish nbgrader's class with make publish "
                f"ASSIGNMENT={assignment} NBGRADER=1",
                file=sys.stderr,
            )
            return 2
        folders = [default]
    for folder in folders:
        try:
            count = publish_folder(folder, assignment)
        except OutputConflict as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"published {count} students in {folder}/ (feedback/*.html, results/*/results.json)")
    if nbgrader:
        return publish_nbgrader(assignment, course)
    return 0


def main(
    assignment: str, *, outs: list[Path] | None = None, nbgrader: bool = False, course: Path | None = None
) -> int:
    return publish(assignment, outs=outs, nbgrader=nbgrader, course=course)
