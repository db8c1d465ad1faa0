"""The likely misreading: when a failed line's case and numbers equal those of a known misreading, say which.

The checks are reproducible (hypothesis is derandomized, hand-picked cases run first), so a bug shrinks
to the same minimal case and the same wrong numbers whoever writes it. A line's *signature* is its
feedback's prose (the case in one sentence and the first difference, before any reproducer) with every
number rounded to 6 significant digits: written differently, the same misreading gives the same
signature. A graded name's *key* joins the signatures of all its failed lines: a hint needs every failed
line of that name to show a known misreading's case and numbers (one line alone can say too little:
"the batches miss indices" fits several bugs). ``make hints`` grades the known misreadings (the
corpus's known-wrong entries and the blind drill's bugs) and keeps each key that one misreading alone
produces, with its one-sentence description, in ``rubric/hints/<assignment>.json``. Grading looks each
graded name's key up there.

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
    return f"{float(match.group(0)):.6g}"  # NUMBER only matches what float() reads


def signature(feedback: str) -> str:
    """The digest of a failed line's case and numbers (see the module's docstring)."""
    if feedback.startswith(LEAD):  # a hint of its own: the signature is of what follows
        feedback = feedback.split("\n", 1)[-1]
    prose = feedback.split(reproduce.OPEN, 1)[0]
    for end in ("To see it yourself", reproduce.SAME_CASE):
        prose = prose.split(end, 1)[0]
    normal = " ".join(NUMBER.sub(_rounded, prose).split())
    return hashlib.sha256(normal.encode()).hexdigest()[:20]


def key(name: str, failed: list[tuple[str, str]]) -> str:
    """A graded name's key: the signatures of all its failed lines, ``(line id, feedback)`` pairs. Two
    misreadings share it only when every failed line shows the same case and the same numbers."""
    lines = sorted(f"{line_id} {signature(feedback)}" for line_id, feedback in failed)
    return f"{name} " + hashlib.sha256("\n".join(lines).encode()).hexdigest()[:20]


def failed_by_name(checks, rubric: Rubric, statuses: tuple[str, ...] = ("failed",)
                   ) -> dict[str, list[tuple[str, str]]]:
    """The lines of each graded name with one of ``statuses``, ``(line id, feedback)``, in rubric order
    (``checks``: check results or record items)."""
    names = {line.id: line.name for line in rubric.lines}
    out: dict[str, list[tuple[str, str]]] = {}
    for c in checks:
        line_id, status, feedback = (c["id"], c["status"], c["feedback"]) if isinstance(c, dict) \
            else (c.id, c.status, c.feedback)
        if status in statuses and line_id in names:
            out.setdefault(names[line_id], []).append((line_id, feedback))
    return out


@cache
def table(assignment: str) -> dict[str, dict]:
    """``"<graded name> <signature>" -> {"name": known misreading, "hint": its description}`` (empty
    when ``make hints`` has not written the assignment's table)."""
    path = HINTS_DIR / f"{assignment}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["signatures"]


def hint_text(description: str) -> str:
    return f"{LEAD} (your numbers here are exactly what it gives): {description}"


def add_hints(checks: list[CheckResult], rubric: Rubric) -> list[CheckResult]:
    """The first failed line of each graded name whose failed lines are, all together, a known
    misreading's starts with its hint."""
    known = table(rubric.assignment) if rubric.hints else {}
    if not known:
        return checks
    first = {}
    for name, failed in failed_by_name(checks, rubric).items():
        found = known.get(key(name, failed))
        if found:
            first[failed[0][0]] = hint_text(found["hint"])
    return [dataclasses.replace(c, feedback=f"{first[c.id]}\n{c.feedback}") if c.id in first else c
            for c in checks]
