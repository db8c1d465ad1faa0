"""The rubric: one TOML data file per assignment, the only source of points.

Each ``[[check]]`` row is one rubric line, graded as item ``<GradedName>.<check>`` by the check
implementation registered under its ``kind`` (checked when the rubric loads). ``max_score`` is computed
from these rows, never stored. A rubric is loaded once and the ``Rubric`` object is passed down.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from ...records import VISIBILITIES, Rubric, RubricLine

RUBRIC_DIR = Path(__file__).parent


def assignment_ids() -> tuple[str, ...]:
    """Every assignment that has a rubric, sorted."""
    return tuple(sorted(p.stem for p in RUBRIC_DIR.glob("*.toml")))


class RubricError(ValueError):
    """A rubric file that cannot be graded with (the message names the file and what is wrong)."""


def known_kinds() -> frozenset[str]:
    """Every check kind the families register (importing them registers the kinds)."""
    from ...families import REGISTRY

    return frozenset(REGISTRY)


def read_rubric(path: Path, assignment: str | None = None) -> Rubric:
    """Read and validate one rubric file: ids, points, visibility, the assignment it declares, and
    every ``kind`` registered by a family (else a ``RubricError`` naming the kind and the file, here
    and now rather than as a grader fault for every student)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rows = data["check"]
        lines = tuple(
            RubricLine(
                id=row["id"],
                kind=row["kind"],
                points=float(row["points"]),
                visibility=row.get("visibility", "visible"),
                description=row.get("description", ""),
            )
            for row in rows
        )
        declared, module = data["assignment"], data["module"]
        hints = data.get("hints", True)
        if not isinstance(hints, bool):
            raise ValueError(f"hints = {hints!r} (true or false)")
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise RubricError(f"{path.name}: not a valid rubric ({type(exc).__name__}: {exc})") from None
    ids = [line.id for line in lines]
    if len(set(ids)) != len(ids):
        raise RubricError(f"{path.name}: duplicate rubric ids")
    for line in lines:
        if "." not in line.id or line.points < 0 or line.visibility not in VISIBILITIES:
            raise RubricError(f"{path.name}: malformed rubric line {line}")
    if assignment is not None and declared != assignment:
        raise RubricError(f"{path.name}: declares assignment {declared!r}")
    kinds = known_kinds()
    for line in lines:
        if line.kind not in kinds:
            raise RubricError(
                f"{path.name}: rubric line {line.id} has kind {line.kind!r}, which no family registers "
                f"(known kinds: {', '.join(sorted(kinds))})"
            )
    return Rubric(assignment=declared, module=module, title=data.get("title", ""), lines=lines, hints=hints)


@cache
def load_rubric(assignment: str) -> Rubric:
    """The validated rubric of ``assignment`` (``read_rubric``), read once per process; ``KeyError`` for
    an unknown assignment."""
    path = RUBRIC_DIR / f"{assignment}.toml"
    if not path.is_file():
        known = ", ".join(assignment_ids())
        raise KeyError(f"unknown assignment {assignment!r} (known: {known})")
    return read_rubric(path, assignment)
