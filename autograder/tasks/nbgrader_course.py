"""Running nbgrader's converters in-process on a course folder (this kit, or a copy of it).

In-process, the kit decides what the TA sees: nbgrader's routine INFO lines, its warning per student on
a rerun that it replaces what it wrote last time, and SQLAlchemy's ``SAWarning``s about its own session
handling (nothing a TA can act on) are dropped, its other warnings and errors are printed as one line
each, and a failure is reported per student instead of ending the run.

Whether nbgrader's class of an assignment is *published* (``make publish ASSIGNMENT=.. NBGRADER=1``:
its feedback pages show the details of hidden checks) is remembered in the course folder, in
``grades/nbgrader/published.json``, a file only the TA's commands write. ``make feedback``, ``make
autograde`` and a plain ``nbgrader generate_feedback`` read it, so a published class stays published.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import json
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

REPO = Path(__file__).resolve().parents[2]
CONFIG_FILE = "nbgrader_config.py"
# The TA's record of which nbgrader classes are published: {assignment: when}, in the course folder.
PUBLISHED_FILE = Path("grades") / "nbgrader" / "published.json"


class _RoutineRerun(logging.Filter):
    """nbgrader warns once per student, on every rerun, that it replaces the folder it wrote the last
    time (``autograded/<student>/<a>``, ``feedback/<student>/<a>``): the rerun is the TA's intent."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Removing existing assignment")


LOG = logging.getLogger("autograder.nbgrader")
if not LOG.handlers:
    LOG.addFilter(_RoutineRerun())
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


def published_assignments(course: Path) -> dict[str, str]:
    """``assignment -> when it was published`` for nbgrader's classes of ``course`` (see the module doc)."""
    try:
        data = json.loads((Path(course) / PUBLISHED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def nbgrader_published(course: Path, assignment: str) -> bool:
    """Whether ``make publish ASSIGNMENT=<assignment> NBGRADER=1`` ran for ``course``."""
    return assignment in published_assignments(course)


def mark_nbgrader_published(course: Path, assignment: str) -> Path:
    """Remember that nbgrader's class of ``assignment`` is published; return the marker file."""
    marks = published_assignments(course)
    marks[assignment] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    path = Path(course) / PUBLISHED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(dict(sorted(marks.items())), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
