"""Release the assignments with nbgrader: ``python -m autograder.tasks.release [--check] [ASSIGNMENT ...]``.

Steps, for each assignment (all of them by default):

1. **Stamp points.** The rubric is the one source of points: every nbgrader test cell ``test_<Name>`` of
   the source notebook ``solutions/<id>/<id>.ipynb`` gets ``points = load_rubric(id).points_of(Name)``.
   The notebook is rewritten only when something changed, so a second run is a no-op. The cell layout
   is validated on the way: one solution cell and one test cell per graded name of the rubric.
2. **Generate.** nbgrader's ``GenerateAssignment`` converter (with ``nbgrader_config.py``) writes
   ``assignments/<id>/``, replacing each solution region by the configured stub and copying any other
   files of the source folder. It runs in-process, offline, with ``force`` so an old release is replaced.
3. **Normalise.** Outputs and execution counts are cleared and the notebook metadata is reduced to the
   kernel spec, so the release does not depend on the machine that produced it. (nbgrader's per-cell
   checksums are kept: they are a pure function of cell source and points, hence stable.)

Before step 2 the submission policy (the package ``autograder/policy/``, joined into one standalone
module) is written into the source folder as ``check_submission.py``, with the assignment's graded
names filled in; nbgrader copies it next to the released notebook, whose self-check cell runs it
(``%run check_submission.py <id>.ipynb``).

``--check`` runs all of this on a copy in a temporary folder, leaves the repository untouched, and exits
with status 1 listing every difference (cell sources, cell metadata, files, the policy copy) from the
committed ``assignments/``, or from stale points or a stale policy copy in ``solutions/``.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import nbformat

from autograder import policy
from autograder.grading.rubric import Rubric, assignment_ids, load_rubric
from autograder.policy.notebook import (
    EXPERIMENT_TAG,
    SELF_CHECK_TAG,
    TEST_PREFIX,
    cell_tags,
    export_command,
    is_experiment_cell,
    is_solution_cell,
    is_test_cell,
    nbgrader_meta,
)

REPO = Path(__file__).resolve().parents[2]
POLICY_COPY = "check_submission.py"
_GRADED_NAMES_LINE = "GRADED_NAMES: tuple[str, ...] = ()\n"
CONFIG_FILE = "nbgrader_config.py"
SOURCE_DIR = "solutions"
RELEASE_DIR = "assignments"
# The metadata every released notebook carries; anything else (language_info versions, widget state)
# would make the committed release depend on whoever ran `make release`.
CANONICAL_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
# Folders nbgrader must not copy from solutions/ into the release.
COPY_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")

NBGRADER_LOG = logging.getLogger("autograder.tasks.release.nbgrader")
NBGRADER_LOG.setLevel(logging.ERROR)


class ReleaseError(Exception):
    """The source notebooks or the nbgrader run are not in a releasable state."""


# --------------------------------------------------------------------------------------------------
# nbgrader cells (the conventions live in ``policy/notebook.py``, shared with the grader)


def notebook_path(root: Path, folder: str, assignment: str) -> Path:
    """``<root>/<folder>/<id>/<id>.ipynb``: one notebook per assignment, named after it."""
    return root / folder / assignment / f"{assignment}.ipynb"


def graded_cells(nb, rubric: Rubric) -> tuple[dict[str, list], dict[str, list]]:
    """Map each graded name to its solution cells and its test cells; raise on unknown names."""
    solutions: dict[str, list] = {name: [] for name in rubric.graded_names}
    tests: dict[str, list] = {name: [] for name in rubric.graded_names}
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id", "")
        if is_solution_cell(cell):
            if grade_id not in solutions:
                raise ReleaseError(f"{rubric.assignment}: solution cell {grade_id!r} is not a graded name")
            solutions[grade_id].append(cell)
        elif is_test_cell(cell):
            name = grade_id.removeprefix(TEST_PREFIX)
            if not grade_id.startswith(TEST_PREFIX) or name not in tests:
                raise ReleaseError(f"{rubric.assignment}: test cell {grade_id!r} is not test_<graded name>")
            tests[name].append(cell)
    return solutions, tests


def validate_layout(nb, rubric: Rubric) -> None:
    """Exactly one solution cell and one test cell per graded name, none of them tagged experiment."""
    solutions, tests = graded_cells(nb, rubric)
    problems = []
    for name in rubric.graded_names:
        for kind, cells in (("solution", solutions[name]), ("test", tests[name])):
            if len(cells) != 1:
                problems.append(f"{name}: {len(cells)} {kind} cells (need exactly 1)")
            if any(is_experiment_cell(c) for c in cells):
                problems.append(f"{name}: {kind} cell tagged {EXPERIMENT_TAG!r} (the grader would skip it)")
    if problems:
        raise ReleaseError(f"{rubric.assignment}: " + "; ".join(problems))


def _is_policy_check(cell) -> bool:
    return cell.get("cell_type") == "code" and "".join(cell.get("source", "")).lstrip().startswith(
        f"%run {POLICY_COPY}")


def stamp_points(nb, rubric: Rubric) -> list[str]:
    """Set each test cell's points from the rubric, tag every public self-check (the test cells and the
    policy self-check) ``self-check`` so the Submitting section's export command leaves them out of a
    .py, and write that command into the Submitting section; in place, a line per change."""
    validate_layout(nb, rubric)
    changes = []
    for cell in nb.cells:
        if is_test_cell(cell):
            grade_id = cell.metadata.nbgrader["grade_id"]
            points = rubric.points_of(grade_id.removeprefix(TEST_PREFIX))
            if cell.metadata.nbgrader.get("points") != points:
                changes.append(f"{grade_id}: points {cell.metadata.nbgrader.get('points')} -> {points}")
                cell.metadata.nbgrader["points"] = points
        if (is_test_cell(cell) or _is_policy_check(cell)) and SELF_CHECK_TAG not in cell_tags(cell):
            cell.metadata["tags"] = [*cell_tags(cell), SELF_CHECK_TAG]
            what = nbgrader_meta(cell).get("grade_id") or "policy self-check"
            changes.append(f"{what}: tagged {SELF_CHECK_TAG}")
    command, marker = export_command(rubric.assignment, rubric.module), "jupyter nbconvert --to python"
    for cell in nb.cells:
        text = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown" and marker in text and command not in text:
            old = next(line.strip() for line in text.split("\n") if marker in line)
            cell.source = text.replace(old, command)
            changes.append(f"Submitting section: the export command is now `{command}`")
    return changes


def stamp_source(path: Path, rubric: Rubric) -> list[str]:
    """Stamp a source notebook on disk; it is rewritten only when a value changed (idempotent)."""
    nb = nbformat.read(path, as_version=4)
    changes = stamp_points(nb, rubric)
    if changes:
        nbformat.write(nb, path)
    return changes


# --------------------------------------------------------------------------------------------------
# nbgrader


def load_config(root: Path):
    """The repo's ``nbgrader_config.py``, re-rooted at ``root`` (a temporary copy in ``--check``)."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(CONFIG_FILE, path=str(REPO)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.source_directory = SOURCE_DIR
    config.CourseDirectory.release_directory = RELEASE_DIR
    if root != REPO:  # keep a throwaway gradebook next to the throwaway course
        config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    return config


@contextlib.contextmanager
def venv_on_path() -> Iterator[None]:
    """Put this interpreter's ``bin/`` first on PATH while nbgrader runs.

    nbgrader creates a new gradebook by running the ``alembic`` executable found on PATH
    (``nbgrader.api.get_alembic_version``), which fails when the kit's venv is used without being
    activated (``.venv/bin/python -m autograder.tasks.release``, as the Makefile does).
    """
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), old])
    try:
        yield
    finally:
        os.environ["PATH"] = old


def generate(assignment: str, root: Path) -> None:
    """Run nbgrader's GenerateAssignment for one assignment of the course rooted at ``root``."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    config = load_config(root)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    converter = GenerateAssignment(coursedir=coursedir, config=config)
    converter.force = True  # replace an existing release instead of skipping it
    converter.log = NBGRADER_LOG  # its routine warnings ("Removing existing assignment") are noise here
    try:
        with venv_on_path():
            converter.start()
    except Exception as exc:  # nbgrader logs the details; say which assignment failed
        raise ReleaseError(f"{assignment}: nbgrader generate_assignment failed: {exc}") from exc
    normalize_release(notebook_path(root, RELEASE_DIR, assignment))


def normalize_release(path: Path) -> None:
    """Clear outputs and execution counts, reduce notebook metadata to the kernel spec."""
    if not path.is_file():
        raise ReleaseError(f"nbgrader did not write {path}")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata = nbformat.from_dict(CANONICAL_METADATA)
    nbformat.write(nb, path)


def policy_copy(rubric: Rubric) -> str:
    """The text of ``check_submission.py`` for one assignment: the policy package joined into one
    standalone module (``policy.standalone_text``), with the assignment's graded names filled in."""
    text = policy.standalone_text()
    if text.count(_GRADED_NAMES_LINE) != 1:
        raise ReleaseError(f"autograder/policy/cli.py: expected one line {_GRADED_NAMES_LINE.strip()!r}")
    names = f"GRADED_NAMES: tuple[str, ...] = {tuple(rubric.graded_names)!r}  # {rubric.assignment}\n"
    return text.replace(_GRADED_NAMES_LINE, names)


def write_policy_copy(folder: Path, rubric: Rubric) -> list[str]:
    """Write ``folder/check_submission.py`` when it is missing or stale; return a line per change."""
    path, text = folder / POLICY_COPY, policy_copy(rubric)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return []
    path.write_text(text, encoding="utf-8")
    return [f"{POLICY_COPY}: written from autograder/policy/"]


def build(assignments: Sequence[str], root: Path) -> list[str]:
    """Stamp, copy the policy and generate every assignment under ``root``; return the changes made in
    the source."""
    changes = []
    for assignment in assignments:
        source = notebook_path(root, SOURCE_DIR, assignment)
        if not source.is_file():
            raise ReleaseError(f"{assignment}: missing source notebook {source.relative_to(root)}")
        rubric = load_rubric(assignment)
        changes += [f"{assignment}: {change}" for change in stamp_source(source, rubric)]
        changes += [f"{assignment}: {change}" for change in write_policy_copy(source.parent, rubric)]
        generate(assignment, root)
    return changes


def release(assignments: Sequence[str]) -> list[str]:
    """Stamp ``solutions/`` and regenerate ``assignments/`` in the repository."""
    return build(assignments, REPO)


def regenerate_into(dest: Path, assignments: Sequence[str]) -> list[str]:
    """Copy the sources to ``dest`` and release there; return the points that were stale in the repo."""
    for assignment in assignments:
        shutil.copytree(REPO / SOURCE_DIR / assignment, dest / SOURCE_DIR / assignment, ignore=COPY_IGNORE)
    return build(assignments, dest)


# --------------------------------------------------------------------------------------------------
# comparing releases


def cell_record(cell) -> dict:
    """What must match between two releases: the source and what nbgrader and the grader read."""
    meta = nbgrader_meta(cell)
    return {
        "cell_type": cell.cell_type,
        "source": cell.source,
        "nbgrader": {k: meta.get(k) for k in ("grade_id", "grade", "solution", "locked", "points")},
        "tags": sorted(cell.get("metadata", {}).get("tags", [])),
    }


def diff_notebooks(expected: Path, actual: Path, label: str) -> list[str]:
    """Cell-by-cell differences of two notebooks, as readable lines."""
    ours = [cell_record(c) for c in nbformat.read(expected, as_version=4).cells]
    theirs = [cell_record(c) for c in nbformat.read(actual, as_version=4).cells]
    problems = []
    if len(ours) != len(theirs):
        problems.append(f"{label}: {len(theirs)} cells committed, {len(ours)} generated")
    # strict=False: a change in the number of cells is reported above, the common prefix below.
    for index, (want, have) in enumerate(zip(ours, theirs, strict=False)):
        where = f"{label} cell {index}"
        if want["source"] != have["source"]:
            diff = difflib.unified_diff(have["source"].splitlines(), want["source"].splitlines(),
                                        "committed", "generated", lineterm="", n=1)
            problems.append(f"{where}: source differs\n    " + "\n    ".join(list(diff)[:40]))
        for key in ("cell_type", "nbgrader", "tags"):
            if want[key] != have[key]:
                problems.append(f"{where}: {key} {have[key]} committed, {want[key]} generated")
    return problems


def files_under(folder: Path) -> set[Path]:
    """Relative paths of the files below ``folder`` (empty when it does not exist)."""
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else set()


def diff_release(expected_root: Path, actual_root: Path, assignment: str) -> list[str]:
    """Differences between a generated release folder and the committed one."""
    expected_dir = expected_root / RELEASE_DIR / assignment
    actual_dir = actual_root / RELEASE_DIR / assignment
    want, have = files_under(expected_dir), files_under(actual_dir)
    folder = f"{RELEASE_DIR}/{assignment}"
    problems = [f"{folder}/{p}: missing (not committed)" for p in sorted(want - have)]
    problems += [f"{folder}/{p}: not generated from {SOURCE_DIR}/" for p in sorted(have - want)]
    for rel in sorted(want & have):
        label = f"{RELEASE_DIR}/{assignment}/{rel}"
        if rel.suffix == ".ipynb":
            problems += diff_notebooks(expected_dir / rel, actual_dir / rel, label)
        elif (expected_dir / rel).read_bytes() != (actual_dir / rel).read_bytes():
            problems.append(f"{label}: content differs")
    return problems


def check(assignments: Sequence[str]) -> list[str]:
    """Regenerate in a temporary folder and list every difference from the repository."""
    with tempfile.TemporaryDirectory(prefix="kit-release-") as tmp:
        dest = Path(tmp)
        stale = regenerate_into(dest, assignments)
        problems = [f"{SOURCE_DIR}/ {change} (run `make release`)" for change in stale]
        for assignment in assignments:
            problems += diff_release(dest, REPO, assignment)
    return problems


# --------------------------------------------------------------------------------------------------
# command line


def iter_assignments(requested: Sequence[str]) -> Iterator[str]:
    known = assignment_ids()
    for assignment in requested or known:
        if assignment not in known:
            raise ReleaseError(f"unknown assignment {assignment!r} (known: {', '.join(known)})")
        yield assignment


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.tasks.release", description=__doc__.splitlines()[0]
    )
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    parser.add_argument("--check", action="store_true",
                        help="regenerate in a temporary folder and fail if the committed release differs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        assignments = list(iter_assignments(args.assignments))
        if args.check:
            problems = check(assignments)
            for problem in problems:
                print(problem)
            print(f"release check: {len(problems)} difference(s) in {', '.join(assignments)}")
            return 1 if problems else 0
        for change in release(assignments):
            print(f"stamped {change}")
        for assignment in assignments:
            print(f"released {RELEASE_DIR}/{assignment}/{assignment}.ipynb")
        return 0
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
