"""Running nbgrader's converters in-process on a course folder (this kit, or a copy of it).

In-process, the kit decides what the TA sees: nbgrader's routine INFO lines and SQLAlchemy's
``SAWarning``s about its own session handling (nothing a TA can act on) are dropped, its warnings and
errors are printed as one line each, and a failure is reported per student instead of ending the run.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

REPO = Path(__file__).resolve().parents[2]
CONFIG_FILE = "nbgrader_config.py"

LOG = logging.getLogger("autograder.nbgrader")
if not LOG.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("nbgrader %(levelname)s: %(message)s"))
    LOG.addHandler(_handler)
    LOG.setLevel(logging.WARNING)
    LOG.propagate = False


def course_config(course: Path):
    """The course's own ``nbgrader_config.py`` (its root is the folder that holds it)."""
    course = Path(course).resolve()
    if not (course / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{course}/{CONFIG_FILE} not found: is {course} an nbgrader course folder?")
    config = PyFileConfigLoader(CONFIG_FILE, path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    return config


def coursedir_of(config, assignment: str):
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    return coursedir


@contextlib.contextmanager
def quiet_nbgrader() -> Iterator[None]:
    """Silence SQLAlchemy's SAWarnings, and put this interpreter's ``bin/`` first on PATH (nbgrader runs
    ``alembic`` from PATH when it creates a gradebook)."""
    from sqlalchemy.exc import SAWarning

    from .release import venv_on_path

    with warnings.catch_warnings(), venv_on_path():
        warnings.simplefilter("ignore", SAWarning)
        yield


def run_converter(converter_cls, config, assignment: str) -> str | None:
    """Run one nbgrader converter for every student of ``assignment``; return its error, or None."""
    from nbgrader.converters.base import NbGraderException

    converter = converter_cls(coursedir=coursedir_of(config, assignment), config=config)
    converter.force = True
    converter.log = LOG
    try:
        with quiet_nbgrader():
            converter.start()
    except NbGraderException as exc:
        return str(exc) or type(exc).__name__
    return None


def in_gradebook(config, assignment: str) -> bool:
    """Whether the gradebook knows ``assignment`` and its notebooks (``generate_assignment`` ran)."""
    from nbgrader.api import Gradebook, MissingEntry

    coursedir = coursedir_of(config, assignment)
    if not Path(coursedir.db_url.removeprefix("sqlite:///")).exists():
        return False
    with quiet_nbgrader(), Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        try:
            return bool(gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            return False


def ensure_in_gradebook(config, assignment: str) -> bool:
    """Record ``assignment`` in the gradebook if it is not there yet (nbgrader's generate_assignment, into
    a throwaway folder: the committed release in ``assignments/`` is left alone). True if it was added."""
    if in_gradebook(config, assignment):
        return False
    from nbgrader.converters import GenerateAssignment

    with tempfile.TemporaryDirectory(prefix="kit-release-") as tmp:
        config = copy.deepcopy(config)
        config.CourseDirectory.release_directory = tmp
        error = run_converter(GenerateAssignment, config, assignment)
    if error:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed: {error}")
    return True


def gradebook_scores(config, assignment: str, students: list[str]) -> dict[str, float | None]:
    """``student -> score`` in nbgrader's gradebook (None: no submission recorded)."""
    from nbgrader.api import Gradebook, MissingEntry

    coursedir = coursedir_of(config, assignment)
    out: dict[str, float | None] = {}
    with quiet_nbgrader(), Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for student in students:
            try:
                out[student] = float(gb.find_submission(assignment, student).score)
            except MissingEntry:
                out[student] = None
    return out
