"""Plain result records (otter-style): what a check found, never how it is shown.

Scores are computed from the check results and the rubric; nothing is stored twice. Statuses are the
closed set of DESIGN.md. A grader fault (a bug in the kit) is kept apart from a student error: its
details (tracebacks) stay in ``grader_faults`` for the TA (``run.json``); the student's JSON gets one
sentence, never a traceback, never blamed on the student.
"""

from __future__ import annotations

from ..records import GRADER_FAULT_NOTE, STATUSES, CheckResult, Status, StudentResult

__all__ = ["GRADER_FAULT_NOTE", "STATUSES", "CheckResult", "Status", "StudentResult", "item_records",
           "student_record"]


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
