"""Record builder for the reporter tests: records made by ``results.student_record`` from a real rubric."""

from __future__ import annotations

from autograder.grading.results import CheckResult, StudentResult, student_record

# A secret that only a hidden check's feedback carries: it must never reach a student-facing file.
SECRET = "HIDDEN-REFERENCE-TENSOR-0.73519"


def build_record(
    rubric,
    student: str,
    statuses: dict[str, str] | None = None,
    *,
    feedback: dict[str, str] | None = None,
    fractions: dict[str, float] | None = None,
    errors: list[str] | None = None,
    flags: list[dict] | None = None,
) -> dict:
    """A record where every rubric line passes unless ``statuses`` says otherwise."""
    statuses, feedback, fractions = statuses or {}, feedback or {}, fractions or {}
    checks = [
        CheckResult(
            line.id,
            statuses.get(line.id, "passed"),
            feedback.get(line.id, ""),
            fractions.get(line.id, 0.0),
        )
        for line in rubric.lines
    ]
    result = StudentResult(
        student, rubric.assignment, checks, errors=list(errors or []), flags=list(flags or [])
    )
    return student_record(result, rubric)
