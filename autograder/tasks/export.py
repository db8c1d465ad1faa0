"""One CSV for the LMS gradebook: one row per student and assignment (``make export``).

Sources, in order of precedence:

1. nbgrader's gradebook, read through nbgrader's API (``nbgrader.api.Gradebook``): every submission,
   its score after the late penalty (as ``nbgrader export`` computes it) and manual grades included;
   and, as nbgrader's own export does, 0 for a student of the gradebook who submitted nothing, but only
   for an assignment that was graded: one the gradebook knows (released) without a single submission
   yet (not collected, not autograded) has no rows at all.
2. Kit output folders below the given roots (any folder whose ``run.json`` names an assignment):
   ``make grade`` classes, ``make autograde``'s records (``nbgrader/<assignment>/``: they also cover a
   student nbgrader could not take, e.g. one who handed in a ``.py`` file only). The bundled sample
   classes (``samples/``) and the staging folders of unfinished runs are left out.

A student and assignment found in several sources gives one row, from the first source above (among
kit folders: the most recent run). Every such duplicate is reported, and a warning says when the
sources disagree; ``make autograde``'s record of a grade the gradebook holds with the same score is the
gradebook's own input, not a duplicate. No grades at all is a warning and an exit status of 1, and no
file is written. ``assignments`` (``--assignment``, ``make export ASSIGNMENT=..``) keeps the rows of
those assignments only.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from ..reporters._common import fmt_points, write_text
from .outdir import (
    MANIFEST,
    REPLACED_SUFFIX,
    STAGING_SUFFIX,
    OutputConflict,
    read_contents,
    read_record,
)

COLUMNS = ["student", "assignment", "score", "max_score", "source"]
SKIPPED_FOLDERS = {"samples"}


@dataclass(frozen=True)
class Row:
    student: str
    assignment: str
    score: float
    max_score: float
    source: str
    rank: tuple = ()  # lower wins: (0,) gradebook, (1, -mtime) kit folders, newest first
    autograde_input: bool = False  # a record make autograde wrote for nbgrader (grades/nbgrader/...)

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.assignment)


def gradebook_url(gradebook: str | None) -> str | None:
    """A database URL for ``gradebook`` (a sqlite file or a URL); default ``./gradebook.db`` if it exists."""
    if gradebook is None:
        return "sqlite:///" + str(Path("gradebook.db").resolve()) if Path("gradebook.db").is_file() else None
    if "://" in gradebook:
        return gradebook
    path = Path(gradebook)
    if not path.is_file():
        raise FileNotFoundError(f"no gradebook at {gradebook}")
    return "sqlite:///" + str(path.resolve())


def gradebook_rows(url: str) -> list[Row]:
    """Every (student, assignment) of nbgrader's gradebook, through nbgrader's API, for each assignment
    with at least one submission (see the module docstring)."""
    from nbgrader.api import Gradebook, MissingEntry

    from .nbgrader_course import quiet_nbgrader

    rows = []
    with quiet_nbgrader(), Gradebook(url) as gb:
        for assignment in gb.assignments:
            if not assignment.num_submissions:  # released, not graded yet: no "0 (no submission)" rows
                continue
            for student in gb.students:
                try:
                    sub = gb.find_submission(assignment.name, student.id)
                except MissingEntry:
                    score, source = 0.0, "gradebook (no submission)"
                else:
                    score = max(0.0, float(sub.score) - float(sub.late_submission_penalty or 0.0))
                    source = "gradebook"
                rows.append(
                    Row(student.id, assignment.name, score, float(assignment.max_score), source, (0,))
                )
    return rows


def kit_folders(roots: list[Path]) -> list[Path]:
    """Kit output folders below ``roots`` (see the module docstring for what is left out)."""
    folders = []
    for root in roots:
        for manifest in sorted(Path(root).rglob(MANIFEST)):
            folder = manifest.parent
            parts = folder.relative_to(root).parts
            if SKIPPED_FOLDERS & set(parts):
                continue
            if any(p.endswith((STAGING_SUFFIX, REPLACED_SUFFIX)) for p in parts):
                continue
            folders.append(folder)
    return folders


def kit_rows(folder: Path) -> list[Row]:
    try:
        contents = read_contents(folder)
    except OutputConflict:
        return []
    if contents is None or not contents.assignment:
        return []
    rank = (1, -(folder / MANIFEST).stat().st_mtime)
    autograde_input = folder.parent.name == "nbgrader"
    rows = []
    for student in sorted(contents.students):
        record = read_record(folder / f"{student}.json")
        if record and record["assignment"] == contents.assignment:
            rows.append(
                Row(
                    student,
                    contents.assignment,
                    float(record["score"]),
                    float(record["max_score"]),
                    str(folder),
                    rank,
                    autograde_input,
                )
            )
    return rows


def merge(rows: list[Row]) -> tuple[list[Row], list[str]]:
    """One row per (student, assignment), and the warnings about duplicates."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault(row.key, []).append(row)
    kept, notes = [], {}
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda r: r.rank)
        kept.append(group[0])
        book = [r.score for r in group if r.source.startswith("gradebook")]
        group = [r for r in group if not (r.autograde_input and book and abs(r.score - book[0]) < 1e-9)]
        if len(group) > 1:
            sources = " and ".join(r.source for r in group)
            differ = len({round(r.score, 6) for r in group}) > 1
            notes.setdefault((sources, differ, group[0].source), []).append(
                f"{key[0]} ({' vs '.join(fmt_points(r.score) for r in group)})" if differ else key[0]
            )
    warnings = []
    for (sources, differ, winner), students in notes.items():
        what = "with different scores" if differ else "(same score)"
        warnings.append(
            f"warning: {len(students)} student(s) found in {sources} {what}: kept {winner}: "
            + ", ".join(students)
        )
    return kept, warnings


def collect(
    roots: list[Path], gradebook: str | None = None, assignments: list[str] | None = None
) -> tuple[list[Row], list[str]]:
    """The rows of the export (of ``assignments`` only, when given) and its warnings."""
    url = gradebook_url(gradebook)
    rows = gradebook_rows(url) if url else []
    for folder in kit_folders(roots):
        rows += kit_rows(folder)
    if assignments:
        rows = [r for r in rows if r.assignment in set(assignments)]
    return merge(rows)


def render(rows: list[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.student, r.assignment, fmt_points(r.score), fmt_points(r.max_score), r.source])
    return buf.getvalue()


def export(
    roots: list[Path], out: Path, gradebook: str | None = None, assignments: list[str] | None = None
) -> list[Row]:
    """Write the CSV (unless there is no row); print the warnings; return the rows."""
    rows, warnings = collect(roots, gradebook, assignments)
    for warning in warnings:
        print(warning, file=sys.stderr)
    if rows:
        write_text(out, render(rows))
    return rows


def write_export(
    roots: list[Path], out: Path, gradebook: str | None = None, assignments: list[str] | None = None
) -> int:
    """``export`` returning the number of rows written."""
    return len(export(roots, out, gradebook, assignments))


def main(
    roots: list[Path], out: Path, gradebook: str | None = None, assignments: list[str] | None = None
) -> int:
    try:
        rows = export(roots, out, gradebook, assignments)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    of = f" of {', '.join(assignments)}" if assignments else ""
    if not rows:
        where = ", ".join(str(r) for r in roots) or "no folder"
        print(
            f"warning: no grades{of} found (gradebook: {gradebook or './gradebook.db'}, kit folders: "
            f"{where}); {out} not written. Run make grade or make autograde first.",
            file=sys.stderr,
        )
        return 1
    graded = sorted({r.assignment for r in rows})
    print(f"wrote {len(rows)} rows ({len({r.student for r in rows})} students; {', '.join(graded)}) to {out}")
    return 0
