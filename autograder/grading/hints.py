"""The likely misreading: when a failed line's case and numbers equal those of a known misreading, say which.

The checks are reproducible (hypothesis is derandomized, hand-picked cases run first), so a bug shrinks
to the same minimal case and the same wrong numbers whoever writes it. A line's *signature* is its
feedback's prose (the case in one sentence and the first difference, before any reproducer) with every
number rounded to 6 significant digits: written differently, the same misreading gives the same
signature. ``make hints`` grades the known misreadings (the corpus's known-wrong entries) and keeps each
signature that one misreading alone produces, with its one-sentence description, in
``rubric/hints/<assignment>.json``. Grading looks a failed line's signature up there.

Only ``failed`` lines get hints (a crash's message is the student's own). A rubric's ``hints = false``
turns them off for an assignment.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from functools import cache
from pathlib import Path

from ..families import reproduce
from ..records import CheckResult, Rubric

HINTS_DIR = Path(__file__).resolve().parent / "rubric" / "hints"
LEAD = "Likely misreading"
NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _rounded(match: re.Match) -> str:
    try:
        return f"{float(match.group(0)):.6g}"
    except ValueError:  # pragma: no cover - the pattern only matches numbers
        return match.group(0)


def signature(feedback: str) -> str:
    """The digest of a failed line's case and numbers (see the module's docstring)."""
    if feedback.startswith(LEAD):  # a hint of its own: the signature is of what follows
        feedback = feedback.split("\n", 1)[-1]
    prose = feedback.split(reproduce.OPEN, 1)[0]
    for end in ("To see it yourself", reproduce.SAME_CASE):
        prose = prose.split(end, 1)[0]
    normal = " ".join(NUMBER.sub(_rounded, prose).split())
    return hashlib.sha256(normal.encode()).hexdigest()[:20]


def key(line_id: str, feedback: str) -> str:
    return f"{line_id} {signature(feedback)}"


@cache
def table(assignment: str) -> dict[str, dict]:
    """``"<line id> <signature>" -> {"name": known misreading, "hint": its description}`` (empty when
    ``make hints`` has not written the assignment's table)."""
    path = HINTS_DIR / f"{assignment}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["signatures"]


def hint_text(description: str) -> str:
    return f"{LEAD} (your numbers here are exactly what it gives): {description}"


def add_hints(checks: list[CheckResult], rubric: Rubric) -> list[CheckResult]:
    """Each graded name's first failed line whose signature is a known misreading's starts with its hint."""
    known = table(rubric.assignment) if rubric.hints else {}
    if not known:
        return checks
    names = {line.id: line.name for line in rubric.lines}
    hinted: set[str] = set()
    out = []
    for check in checks:
        found = known.get(key(check.id, check.feedback)) if check.status == "failed" else None
        name = names.get(check.id, "")
        if found and name not in hinted:
            hinted.add(name)
            check = dataclasses.replace(check, feedback=f"{hint_text(found['hint'])}\n{check.feedback}")
        out.append(check)
    return out
