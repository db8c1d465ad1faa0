"""Plain result records (otter-style): what a check found, never how it is shown.

Scores are computed from the check results and the rubric; nothing is stored twice. Statuses are the
closed set of DESIGN.md. A grader fault (a bug in the kit) is kept apart from a student error: its
details (tracebacks) stay in ``grader_faults`` for the TA (``run.json``); the student's JSON gets one
sentence, never a traceback, never blamed on the student.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["passed", "failed", "error", "timeout", "forbidden", "review", "missing"]
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "timeout", "forbidden", "review", "missing")


GRADER_FAULT_NOTE = (
    "The grader had an internal problem with this submission (not your fault); a TA has been told."
)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one rubric line for one student.

    ``fraction`` is the share of the line's points earned (1.0 when passed; some checks give partial
    credit, e.g. float64 passed but float32 failed).
    """

    id: str
    status: Status
    feedback: str = ""
    fraction: float = 0.0
    # data for a picture of the line (``reporters/plots.py``): a convergence line's loss curves, the
    # student's and the reference's on the same problem, computed on the grader's side
    plot: dict | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.status == "passed" and self.fraction != 1.0:
            object.__setattr__(self, "fraction", 1.0)
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction {self.fraction} outside [0, 1]")


@dataclass
class StudentResult:
    """Everything graded for one student of one assignment."""

    student: str
    assignment: str
    checks: list[CheckResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    isolation: str = ""
    grader_faults: list[str] = field(default_factory=list)


def item_records(result: StudentResult, rubric) -> list[dict]:
    """The JSON ``items`` of one student, in rubric order, scores computed from the rubric.

    A rubric line without a result (a grader fault) is reported as ``error`` with 0 points, so every
    student of an assignment has the same item list and ``max_score``.
    """
    by_id = {c.id: c for c in result.checks}
    items = []
    for line in rubric.lines:
        check = by_id.get(line.id) or CheckResult(line.id, "error", "not graded (internal grader fault)")
        items.append(
            {
                "id": line.id,
                "score": round(line.points * check.fraction, 6),
                "max_score": line.points,
                "status": check.status,
                "feedback": check.feedback,
                "visibility": line.visibility,
                **({"plot": check.plot} if check.plot else {}),
            }
        )
    return items


def student_record(result: StudentResult, rubric) -> dict:
    """The per-student JSON document of DESIGN.md (nothing time-dependent: regrades are identical)."""
    items = item_records(result, rubric)
    record = {
        "student": result.student,
        "assignment": result.assignment,
        "score": round(sum(i["score"] for i in items), 6),
        "max_score": rubric.max_score,
        "items": items,
        "errors": list(result.errors) + ([GRADER_FAULT_NOTE] if result.grader_faults else []),
    }
    if result.flags:
        record["flags"] = list(result.flags)
    if result.isolation:
        record["isolation"] = result.isolation
    return record
