"""``make feedback``: nbgrader's feedback pages of one assignment, for every student who handed it in.

1. ``nbgrader generate_feedback`` runs in this process on the autograded notebooks: ``KitFeedback``
   writes each test cell's feedback (the kit's text, reproducers as code blocks, plots), hidden checks'
   details only when nbgrader's class is published (``make publish ASSIGNMENT=.. NBGRADER=1``, which
   the course folder remembers, so this step keeps a published class published).
2. A student who handed in a ``.py`` file only has no notebook for nbgrader to grade or render, but the
   kit graded them (``make autograde``'s records in ``grades/nbgrader/<assignment>/``). Their page is
   the kit's own feedback page (``reporters.html.render_feedback_html``), written where nbgrader's
   students find theirs: ``feedback/<student>/<assignment>/<assignment>.html``, with the
   ``timestamp.txt`` of the submission beside it as nbgrader does.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from ..grading.rubric import load_rubric
from ..reporters._common import write_text
from ..reporters.html import render_feedback_html
from .autograde import records_dir
from .nbgrader_course import REPO, course_config, coursedir_of, nbgrader_published, run_converter
from .outdir import read_record

# What nbgrader keeps next to a student's feedback page (release_feedback reads them), if the
# submission has them.
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


def autograded_students(config, assignment: str) -> list[str]:
    """Students whose notebook of ``assignment`` nbgrader autograded (``autograded/<student>/<a>/``)."""
    coursedir = coursedir_of(config, assignment)
    autograded = Path(coursedir.root) / coursedir.autograded_directory
    if not autograded.is_dir():
        return []
    return sorted(p.name for p in autograded.iterdir() if any((p / assignment).glob("*.ipynb")))


def python_only_students(config, assignment: str) -> list[str]:
    """Students of nbgrader's ``submitted/`` whose ``<assignment>/`` holds no notebook (a ``.py`` only)."""
    coursedir = coursedir_of(config, assignment)
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    if not submitted.is_dir():
        return []
    return sorted(
        p.name for p in submitted.iterdir()
        if (p / assignment).is_dir() and not any((p / assignment).glob("*.ipynb"))
    )


def python_only_pages(config, course: Path, assignment: str, *, published: bool) -> list[Path]:
    """Write the kit's page of every ``.py``-only student graded by ``make autograde``; return them."""
    coursedir = coursedir_of(config, assignment)
    rubric = load_rubric(assignment)
    records = records_dir(course, assignment)
    pages = []
    for student in python_only_students(config, assignment):
        record = read_record(records / f"{student}.json")
        if record is None or record.get("student") != student or record.get("assignment") != assignment:
            continue  # not graded by make autograde yet: nothing to show
        folder = Path(coursedir.format_path(coursedir.feedback_directory, student, assignment))
        pages.append(write_text(folder / f"{assignment}.html",
                                render_feedback_html(record, rubric, published=published)))
        source = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        for name in SUBMISSION_FILES:
            if (source / name).is_file() and not (source / name).is_symlink():
                shutil.copyfile(source / name, folder / name)
    return pages


def generate_feedback(assignment: str, *, course: Path | None = None, published: bool | None = None) -> int:
    """Steps 1-2 of the module docstring; return the exit status. ``published``: None reads the course's
    state; True is ``make publish ... NBGRADER=1``."""
    from nbgrader.converters import GenerateFeedback

    course = Path(course or REPO).resolve()
    config = course_config(course)
    if published is None:
        published = nbgrader_published(course, assignment)
    notebooks = autograded_students(config, assignment)
    feedback = coursedir_of(config, assignment).feedback_directory
    shown = ("hidden checks' details shown (published)" if published else
             f"hidden checks: points only, until make publish ASSIGNMENT={assignment} NBGRADER=1")
    if notebooks:
        config.KitFeedback.published = published
        error = run_converter(GenerateFeedback, config, assignment)
        if error:
            print(f"error: nbgrader generate_feedback failed: {error}", file=sys.stderr)
            return 1
        print(f"nbgrader feedback of {len(notebooks)} students in {feedback}/*/{assignment}/ ({shown})")
    pages = python_only_pages(config, course, assignment, published=published)
    if pages:
        print(f"the kit's feedback page of {len(pages)} students who handed in a .py file only, in "
              f"{feedback}/<student>/{assignment}/{assignment}.html ({shown})")
    if not notebooks and not pages:
        print(f"error: nothing graded for {assignment} in nbgrader's course {course} yet: run make "
              f"autograde ASSIGNMENT={assignment} first", file=sys.stderr)
        return 2
    return 0


def main(assignment: str, *, course: Path | None = None) -> int:
    try:
        return generate_feedback(assignment, course=course)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
