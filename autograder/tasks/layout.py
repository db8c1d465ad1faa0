"""Which assignment a class holds, read from nbgrader's layout ``submitted/<student>/<assignment>/``."""

from __future__ import annotations

from pathlib import Path

from ..grading.rubric import assignment_ids


class LayoutError(ValueError):
    """The assignment cannot be told from the paths; the message says what to type."""


def assignments_in(paths: list[Path]) -> set[str]:
    """The assignment ids that appear as nbgrader submission folders ``<path>/<assignment>/``."""
    known = assignment_ids()
    return {a for p in paths if p.is_dir() for a in known if (p / a).is_dir()}


def infer_assignment(paths: list[Path]) -> str:
    """The one assignment of an nbgrader-style class, or a ``LayoutError`` saying what to type."""
    found = sorted(assignments_in(paths))
    if len(found) == 1:
        return found[0]
    known = ", ".join(assignment_ids())
    if not found:
        raise LayoutError(
            "cannot tell which assignment these submissions are for (they are not in nbgrader's "
            "submitted/<student>/<assignment>/ layout): add --assignment ID "
            f"(make grade ASSIGNMENT=ID SUBMISSIONS=...), one of: {known}"
        )
    raise LayoutError(
        f"the submissions hold several assignments ({', '.join(found)}): add --assignment ID "
        f"(make grade ASSIGNMENT=ID SUBMISSIONS=...) to say which one to grade"
    )


def split_nbgrader_class(paths: list[Path], assignment: str) -> tuple[list[Path], list[Path]]:
    """In nbgrader's layout, ``(students with a <assignment>/ folder, students without one)``.

    Outside that layout (no path has an assignment folder) every path is a submission.
    """
    if not assignments_in(paths):
        return list(paths), []
    kept = [p for p in paths if (p / assignment).is_dir()]
    return kept, [p for p in paths if p not in kept]
