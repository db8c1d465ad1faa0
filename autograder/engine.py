"""Grade one submission: load it (no execution here), start its sandboxed worker, run every rubric
line's check against it, and return a ``StudentResult``. Nothing a student does can raise out of
``grade_submission``: every failure becomes a status on the affected items.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

from . import checks  # noqa: F401  (registers every check kind)
from .checks.base import REGISTRY, BudgetExhausted, CheckContext, Fail, Forbidden, ItemTimedOut, StudentError
from .loader import Submission, load_submission
from .results import CheckResult, StudentResult
from .rubric import Rubric, RubricLine, load_rubric
from .sandbox.runner import Limits, WorkerDied, WorkerSession, WorkerTimeout, Zygote


@dataclass(frozen=True)
class GradingConfig:
    """Time budgets (seconds). A hang costs at most ``item_budget_s`` per rubric line, and after the
    first hang of a graded name its other lines get ``after_hang_call_s`` per call."""

    item_budget_s: float = 40.0
    call_timeout_s: float = 8.0
    after_hang_call_s: float = 2.0
    limits: Limits = Limits()


DEFAULT_CONFIG = GradingConfig()
GRADER_FAULT = "internal grader fault in this check (not your fault); a TA will look"


def _sandbox_fault(exc: WorkerDied) -> bool:
    """The sandbox failed to start or confine a worker: the kit's fault, never the student's."""
    return exc.reason.startswith("the sandbox could not")


def _format_student_error(sub: Submission, info: dict, prefix: str) -> str:
    """The exception a student's code raised, with their own frames located in their file or cell."""
    message = info.get("message", "")
    if info.get("type") == "MemoryError" or "can't allocate memory" in message:
        prefix = f"memory limit exceeded ({GradingConfig().limits.memory_bytes >> 30} GiB): {prefix}"
    text = f"{prefix}{info.get('type', 'Error')}: {message}".rstrip()
    for frame in info.get("frames", [])[-3:]:
        text += f"\n  at {sub.where(frame['line'])}, in {frame['function']}: {frame['code']}"
    return text


def _all_lines(rubric: Rubric, status: str, feedback: str) -> list[CheckResult]:
    return [CheckResult(line.id, status, feedback) for line in rubric.lines]


def _review_flags(sub: Submission) -> list[dict]:
    if not sub.scan or not sub.scan.review:
        return []
    return [
        {
            "kind": "review",
            "message": "dynamic code a static scan cannot resolve; please look at these lines",
            "lines": [f"{sub.where(line)}: {what}: {code}" for line, what, code in sub.scan.review],
        }
    ]


def _run_line(
    line: RubricLine,
    sub: Submission,
    session: WorkerSession,
    config: GradingConfig,
    hung: set[str],
    faults: list[str],
) -> CheckResult:
    call_timeout = config.after_hang_call_s if line.name in hung else config.call_timeout_s
    ctx = CheckContext(line=line, session=session, budget_s=config.item_budget_s, call_timeout_s=call_timeout)
    check = REGISTRY[line.kind]
    try:
        outcome = check(ctx)
        return outcome or CheckResult(line.id, "passed", "", 1.0)
    except Fail as exc:
        return CheckResult(line.id, "failed", exc.feedback, exc.fraction)
    except Forbidden as exc:
        return CheckResult(line.id, "forbidden", f"forbidden: {exc}")
    except StudentError as exc:
        if exc.info.get("missing"):
            return CheckResult(
                line.id, "missing", f"`{exc.info.get('message')}` is not defined in your submission"
            )
        text = _format_student_error(sub, exc.info, "your code raised ")
        return CheckResult(line.id, "error", f"{exc.case}\n{text}" if exc.case else text)
    except (WorkerTimeout, BudgetExhausted, ItemTimedOut) as exc:
        hung.add(line.name)
        detail = exc.feedback if isinstance(exc, ItemTimedOut) else ""
        budget = f"{config.item_budget_s:g} s" if isinstance(exc, BudgetExhausted) else f"{call_timeout:g} s"
        msg = f"timeout: your code did not finish within {budget}; the worker was killed"
        return CheckResult(line.id, "timeout", msg + (f"\n{detail}" if detail else ""))
    except WorkerDied as exc:
        if _sandbox_fault(exc):
            faults.append(f"{line.id}: {exc.reason}")
            return CheckResult(line.id, "error", GRADER_FAULT)
        return CheckResult(line.id, "error", f"the worker process died: {exc.reason}")
    except Exception:  # a bug in the kit's check: this line only, reported as a grader fault
        faults.append(f"{line.id}: {traceback.format_exc(limit=4)}")
        return CheckResult(
            line.id, "error", "internal grader fault in this check (not your fault); a TA will look"
        )


def _forbid_whole_names(results: list[CheckResult]) -> list[CheckResult]:
    """A tripwire in one line of a graded name makes every line of that name forbidden."""
    why = {r.id.split(".")[0]: r.feedback for r in results if r.status == "forbidden"}
    return [
        CheckResult(r.id, "forbidden", why[r.id.split(".")[0]])
        if r.id.split(".")[0] in why and r.status != "forbidden"
        else r
        for r in results
    ]


def grade_submission(
    path: Path, assignment: str, zygote: Zygote, config: GradingConfig = DEFAULT_CONFIG
) -> StudentResult:
    """Grade one student (a file or folder) for ``assignment`` in workers forked by ``zygote``."""
    rubric = load_rubric(assignment)
    sub = load_submission(Path(path), assignment, rubric.module)
    result = StudentResult(
        student=sub.student, assignment=assignment, flags=_review_flags(sub), isolation=zygote.level
    )
    if sub.load_error:
        result.errors.append(sub.load_error)
        result.checks = _all_lines(rubric, "error", f"not graded: {sub.load_error}")
        return result

    session = WorkerSession(zygote, sub.source, sub.filename, rubric.module, config.limits)
    try:
        loaded = session.load()
    except WorkerTimeout:
        msg = (
            f"{sub.filename}: module-level code ran longer than {config.limits.load_seconds:g} s "
            "(move experiments into cells tagged 'experiment' or under if __name__ == '__main__':)"
        )
        result.errors.append(msg)
        result.checks = _all_lines(rubric, "timeout", f"not graded: {msg}")
        return result
    except WorkerDied as exc:
        if _sandbox_fault(exc):
            result.grader_faults.append(exc.reason)
            result.checks = _all_lines(rubric, "error", GRADER_FAULT)
            return result
        msg = f"{sub.filename}: loading the module killed the worker: {exc.reason}"
        result.errors.append(msg)
        result.checks = _all_lines(rubric, "error", f"not graded: {msg}")
        return result
    if not loaded.ok:
        msg = _format_student_error(sub, loaded.error or {}, f"{sub.filename}: importing your code raised ")
        result.errors.append(msg)
        result.checks = _all_lines(rubric, "error", f"not graded: {msg}")
        session.stop()
        return result

    defined = set(loaded.value["names"])
    hung: set[str] = set()
    checks_out = []
    try:
        for line in rubric.lines:
            if line.name not in defined:
                checks_out.append(
                    CheckResult(line.id, "missing", f"`{line.name}` is not defined in your submission")
                )
                continue
            reason = sub.scan.forbidden_reason(line.name) if sub.scan else None
            if reason:
                checks_out.append(CheckResult(line.id, "forbidden", f"forbidden: `{line.name}` {reason}"))
                continue
            checks_out.append(_run_line(line, sub, session, config, hung, result.grader_faults))
    finally:
        session.stop()
    result.checks = _forbid_whole_names(checks_out)
    return result
