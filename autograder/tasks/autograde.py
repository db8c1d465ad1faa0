"""``make autograde``: nbgrader's autograde, graded in the kit's parallel lanes.

1. The kit grades every ``submitted/<student>/<assignment>/`` in its parallel lanes (one sandbox zygote
   per lane) into ``grades/nbgrader/<assignment>/``, a kit output folder like any other (atomic, with
   content hashes). It is a cache of nbgrader's input: a record whose submission is unchanged is
   reused, so a rerun after one late submission grades that one only.
2. nbgrader's autograde then runs in this process with ``KitGrades`` reading those records (matched
   by content hash, so a stale record is never used), which fills the gradebook and the autograded
   notebooks. A notebook nbgrader cannot read is recorded too, with 0 points and the reason
   (``KitNotebookExporter``).
3. Every student with a notebook must then be in the gradebook; the TA sees the kit's score and the
   gradebook's side by side (a difference means a manual grade in the gradebook). A student who handed
   in a ``.py`` file only is graded by the kit, which ``make export`` takes, since nbgrader grades
   notebooks only (``make feedback`` writes their page from the kit's record).

A class published with ``make publish ASSIGNMENT=.. NBGRADER=1`` stays published: the kit folder
keeps its published state (``classrun``), and one that was not there yet is published here.

Exit 0 when every student was graded and recorded, 1 when nbgrader failed for someone (listed),
2 when there was nothing to grade.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..grading.rubric import Rubric, load_rubric
from ..reporters._common import fmt_points
from ..reporters.summary import summary_console
from .classrun import ClassRun, run_with_progress
from .nbgrader_course import (
    REPO,
    course_config,
    coursedir_of,
    ensure_in_gradebook,
    gradebook_scores,
    nbgrader_published,
    run_converter,
)

RECORDS = Path("grades") / "nbgrader"


def records_dir(course: Path, assignment: str) -> Path:
    """Where ``make autograde`` keeps the kit's records of ``assignment`` for nbgrader."""
    return Path(course) / RECORDS / assignment


def submissions(config, assignment: str) -> list[Path]:
    """Every student folder of nbgrader's ``submitted/`` that holds a submission of ``assignment``."""
    coursedir = coursedir_of(config, assignment)
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    if not submitted.is_dir():
        return []
    return sorted(p for p in submitted.iterdir() if (p / assignment).is_dir())


def autograde(assignment: str, *, jobs: int = 2, course: Path | None = None, quiet: bool = False) -> int:
    """Run steps 1-3 of the module docstring; return the exit status."""
    from nbgrader.converters import Autograde

    course = Path(course or REPO).resolve()
    config = course_config(course)
    students = submissions(config, assignment)
    if not students:
        where = course / coursedir_of(config, assignment).submitted_directory
        print(f"error: no submissions of {assignment} in {where}/<student>/{assignment}/", file=sys.stderr)
        return 2
    if ensure_in_gradebook(config, assignment):
        print(f"added {assignment} to the gradebook (nbgrader generate_assignment)")

    rubric = load_rubric(assignment)
    console = summary_console()
    out = records_dir(course, assignment)
    start = time.monotonic()
    kit = run_with_progress(
        ClassRun(rubric, students, out, jobs=jobs, force=True, resume=True, reuse_out=True),
        console,
        quiet=quiet,
    )
    kit_seconds = time.monotonic() - start
    console.print(
        f"kit: {kit.run_info['graded_now']} graded, {len(kit.reused)} unchanged and reused, in "
        f"{kit_seconds:.1f} s ({kit.run_info['jobs']} lane(s), isolation {kit.run_info['isolation']})"
    )
    if nbgrader_published(course, assignment) and not kit.run_info.get("published"):
        from .publish import publish_folder

        publish_folder(out, assignment)
        console.print(f"nbgrader's class of {assignment} is published: so is {out}/")

    from .nbgrader_plugin import GRADED

    config.KitGrades.records_dir = str(out)
    start = time.monotonic()
    before = dict(GRADED)
    error = run_converter(Autograde, config, assignment)
    console.print(
        f"nbgrader autograde: {time.monotonic() - start:.1f} s; "
        f"{GRADED['from_records'] - before['from_records']} notebook(s) took the kit's records, "
        f"{GRADED['in_process'] - before['in_process']} were graded again in-process"
    )

    ids = [p.name for p in students]
    missing, no_notebook = _compare_with_gradebook(config, rubric, students, kit.records, console)
    if missing or error:
        print(
            f"error: nbgrader autograde failed for {', '.join(missing) or 'some students'}"
            + (f" ({error})" if error else "")
            + f"; the kit's records are in {out}/",
            file=sys.stderr,
        )
        return 1
    recorded = len(ids) - len(no_notebook)
    console.print(f"recorded {recorded} students of {assignment} in the gradebook; kit records in {out}/")
    state = "published" if nbgrader_published(course, assignment) else "hidden checks: points only"
    console.print(f"next: make feedback ASSIGNMENT={assignment} (feedback pages, {state})")
    return 0


def main(assignment: str, *, jobs: int = 2, course: Path | None = None) -> int:
    return autograde(assignment, jobs=jobs, course=course)


def _compare_with_gradebook(config, rubric: Rubric, students: list[Path], records: list[dict], console):
    """Print each student's kit score beside the gradebook's; return (students missing from the
    gradebook, students who handed in no notebook)."""
    assignment = rubric.assignment
    ids = [p.name for p in students]
    in_book = gradebook_scores(config, assignment, ids)
    kit_scores = {r["student"]: r["score"] for r in records}
    max_score = fmt_points(rubric.max_score)
    # nbgrader grades notebooks only: a student who handed in a .py file alone is graded by the kit
    # (make export takes that grade) but cannot be in the gradebook. Anyone else missing is a failure.
    no_notebook = {p.name for p in students if not any((p / assignment).glob("*.ipynb"))}
    missing = [s for s in ids if in_book[s] is None and s not in no_notebook]
    for s in ids:
        book = in_book[s]
        if book is None:
            note = "no notebook, kit grade only (make export)" if s in no_notebook else "NOT IN THE GRADEBOOK"
        else:
            note = "" if abs(book - kit_scores[s]) < 1e-6 else "gradebook differs (a manual grade?)"
        shown = "-" if book is None else fmt_points(book)
        line = f"  {s}: kit {fmt_points(kit_scores[s])}, gradebook {shown} / {max_score} {note}"
        console.print(line.rstrip())
    return missing, no_notebook
