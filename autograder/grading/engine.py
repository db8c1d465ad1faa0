"""Grade one submission: load it (no execution here), start its sandboxed worker, run every rubric
line's check against it, and return a ``StudentResult``. Nothing a student does can raise out of
``grade_submission``: every failure becomes a status on the affected items.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from .. import families  # noqa: F401  (registers every check kind)
from ..families import reproduce
from ..families.base import (
    REGISTRY,
    BudgetExhausted,
    CheckContext,
    Fail,
    Forbidden,
    ItemTimedOut,
    StudentError,
)
from ..families.interface import SourceFacts
from ..sandbox.guards import GUARDS
from ..sandbox.runner import BudgetSpent, Limits, WorkerDied, WorkerTimeout, Zygote
from ..sandbox.session import WorkerSession
from . import hints, review
from .loader import Submission, load_submission
from .phases import load_note, missing_message, phases, session_for
from .results import CheckResult, StudentResult
from .rubric import Rubric, RubricLine


@dataclass(frozen=True)
class GradingConfig:
    """Time budgets (seconds). A hang costs at most ``item_budget_s`` per rubric line, and after the
    first hang of a graded name its other lines get ``after_hang_call_s`` per call. ``student_budget_s``
    bounds one student's whole grading, every module load and reload included: whatever a submission
    does, it costs at most that (plus one call's timeout)."""

    student_budget_s: float = 180.0
    item_budget_s: float = 40.0
    call_timeout_s: float = 8.0
    after_hang_call_s: float = 2.0
    limits: Limits = Limits()
    # The share of each check's hypothesis example budget drawn (hand-picked cases always run): 1 to
    # grade. ``make mutants MUTANTS_ARGS=--examples-scale=0.34`` measures each budget's margin with it.
    examples_scale: float = 1.0


DEFAULT_CONFIG = GradingConfig()
GRADER_FAULT = "internal grader fault in this check (not your fault); a TA will look"
NOT_IMPLEMENTED = "NotImplementedError"
NOT_YET = "not implemented yet"
NOT_LOADED = "not graded: the submission could not be loaded (see the error above)"


def budget_spent(config: GradingConfig) -> str:
    return (f"timeout: the grader's time for one submission ({config.student_budget_s:g} s, module-level "
            "code and every check together) was used up before this line finished; the slow parts are "
            "the lines marked timeout and module-level code that runs on every load")


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
        line = frame.get("line") or 0
        # the line is quoted from the submission as loaded here, never from what the worker says
        code = sub.quote(line) if isinstance(line, int) else ""
        where = f"{sub.where(line)} (in {frame.get('function', '?')})"
        text += f"\n  {where}: {code or '(source not available)'}"
    return text


def _all_lines(rubric: Rubric, status: str, feedback: str) -> list[CheckResult]:
    return [CheckResult(line.id, status, feedback) for line in rubric.lines]


def _run_line(
    line: RubricLine,
    sub: Submission,
    session: WorkerSession,
    config: GradingConfig,
    hung: set[str],
    faults: list[str],
    facts: SourceFacts,
) -> CheckResult:
    call_timeout = config.after_hang_call_s if line.name in hung else config.call_timeout_s
    ctx = CheckContext(line=line, session=session, budget_s=config.item_budget_s, call_timeout_s=call_timeout,
                       after_hang_call_s=config.after_hang_call_s, name_hung=line.name in hung,
                       examples_scale=config.examples_scale, facts=facts)
    result = _outcome(line, sub, ctx, config, hung, faults)
    if result.status in ("failed", "error") and NOT_IMPLEMENTED in ctx.raised:
        return CheckResult(line.id, "missing", f"{NOT_YET}: `{line.name}` still raises {NOT_IMPLEMENTED}")
    placed = reproduce.place(result.feedback, sub.module, sub.filename, notebook=sub.kind == "ipynb")
    return dataclasses.replace(result, feedback=placed) if placed != result.feedback else result


def _outcome(line: RubricLine, sub: Submission, ctx: CheckContext, config: GradingConfig,
             hung: set[str], faults: list[str]) -> CheckResult:
    """How the line's check ended, as a status and its message (one status per cause)."""
    call_timeout = ctx.call_timeout_s
    check = REGISTRY[line.kind]
    try:
        outcome = check(ctx)
        return outcome or CheckResult(line.id, "passed", "", 1.0)
    except Fail as exc:
        return CheckResult(line.id, "failed", exc.feedback, exc.fraction, exc.plot)
    except Forbidden as exc:
        return CheckResult(line.id, "forbidden", _forbidden_text(line.name, str(exc)))
    except StudentError as exc:
        if exc.info.get("type") == NOT_IMPLEMENTED:
            ctx.raised.add(NOT_IMPLEMENTED)
            return CheckResult(line.id, "missing", f"{NOT_YET}: `{line.name}` still raises {NOT_IMPLEMENTED}")
        if exc.info.get("missing"):
            return CheckResult(
                line.id, "missing", f"`{exc.info.get('message')}` is not defined in your submission"
            )
        text = _format_student_error(sub, exc.info, "your code raised ")
        # where it crashed first, then the case that makes it crash (with its reproducer)
        return CheckResult(line.id, "error", f"{text}\n{exc.case}" if exc.case else text)
    except BudgetSpent:
        hung.add(line.name)
        return CheckResult(line.id, "timeout", budget_spent(config))
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
    except Exception:  # a bug in the kit's check: this line only, reported to the TA (run.json)
        faults.append(f"{line.id}: {traceback.format_exc(limit=4)}")
        return CheckResult(line.id, "error", GRADER_FAULT)


def _forbidden_text(name: str, hit: str) -> str:
    """What a student reads when the guards saw their graded code call torch's implementation."""
    family, _, what = hit.partition(":")
    label = GUARDS[family].label if family in GUARDS else "torch's own implementation"
    return (f"forbidden: `{name}` called {what or hit} ({label}), which the grader switches off while "
            f"`{name}` is graded. Delegating to torch's implementation scores 0 on every line of `{name}`: "
            "compute it with your own code")


def _forbid_whole_names(results: list[CheckResult]) -> list[CheckResult]:
    """A call into a switched-off implementation in one line of a graded name makes every line of that
    name forbidden."""
    why = {r.id.split(".")[0]: r.feedback for r in results if r.status == "forbidden"}
    return [
        CheckResult(r.id, "forbidden", why[r.id.split(".")[0]])
        if r.id.split(".")[0] in why and r.status != "forbidden"
        else r
        for r in results
    ]


def _start(session: WorkerSession, sub: Submission, config: GradingConfig,
           faults: list[str]) -> tuple[str, str] | None:
    """Start the worker and run the student's module-level code. None when it loaded (a statement
    that raised does not stop it); else (status, message) for every line that was to run in it."""
    try:
        loaded = session.load()
    except BudgetSpent:
        return "timeout", budget_spent(config)
    except WorkerTimeout:
        limits = config.limits
        return "timeout", (
            f"{sub.filename}: module-level code used more than {limits.load_seconds:g} s of CPU time "
            f"(or ran {limits.load_wall_seconds:g} s): everything outside functions and classes runs "
            "before any check. Move experiments into cells tagged 'experiment' (the export command of "
            "the notebook's Submitting section drops them) or under if __name__ == '__main__':"
        )
    except WorkerDied as exc:
        if _sandbox_fault(exc):
            faults.append(exc.reason)
            return "error", GRADER_FAULT
        return "error", f"{sub.filename}: loading the module killed the worker: {exc.reason}"
    if not loaded.ok:
        session.stop()
        error = loaded.error or {}
        if error.get("grader"):  # the worker could not prepare itself: the kit's fault
            faults.append(f"load: {error.get('message')}")
            return "error", GRADER_FAULT
        prefix = f"{sub.filename}: importing your code raised "
        return "error", _format_student_error(sub, error, prefix)
    return None


def _loaded(session: WorkerSession) -> tuple[set[str], list[dict]]:
    """The names the module defines in this worker, and its module-level statements that raised."""
    value = session.loaded.value if session.loaded is not None else None
    value = value if isinstance(value, dict) else {}
    names, failures = value.get("names"), value.get("failures")
    names = {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()
    failures = [f for f in failures if isinstance(f, dict)] if isinstance(failures, list) else []
    return names, failures


def _decide_statically(sub: Submission, rubric: Rubric, grants: dict[str, str],
                       out: dict[str, CheckResult], result: StudentResult) -> list[RubricLine]:
    """The static facts decide before anything runs: names the file never binds are missing, and
    static evidence (delegation, a policy violation) is review until a TA grants it. Fills ``out`` with
    those lines' results and returns the lines that are to run."""
    decided = review.decide(sub.scan, rubric.graded_names, grants, sub.where)
    result.flags = [v.flag for v in decided.values() if v.flag]
    runnable = []
    for line in rubric.lines:
        verdict = decided.get(line.name)
        if line.name not in sub.scan.uses:
            out[line.id] = CheckResult(line.id, "missing", f"`{line.name}` is not defined in your submission")
        elif verdict is not None and verdict.status != "granted":
            out[line.id] = CheckResult(line.id, verdict.status, verdict.feedback)
        else:
            runnable.append(line)
    return runnable


def _run_phase(
    lines: tuple[RubricLine, ...], sub: Submission, session: WorkerSession, config: GradingConfig,
    hung: set[str], facts: SourceFacts, out: dict[str, CheckResult], result: StudentResult,
) -> str | None:
    """Start a fresh worker for ``lines`` and run each of them in it. Returns the status of every line
    when the submission failed to load (None when it loaded, or when the sandbox failed)."""
    failed = _start(session, sub, config, result.grader_faults)
    if failed:
        status, msg = failed
        if msg not in (GRADER_FAULT, budget_spent(config)):
            if msg not in result.errors:
                result.errors.append(msg)
            msg = NOT_LOADED
        for line in lines:
            out[line.id] = CheckResult(line.id, status, msg)
        return status if msg == NOT_LOADED else None
    defined, failures = _loaded(session)
    for failure in failures:
        note = load_note(sub, failure)
        if note not in result.errors:
            result.errors.append(note)
    for line in lines:
        if session.left() <= 0:
            out[line.id] = CheckResult(line.id, "timeout", budget_spent(config))
        elif line.name not in defined:
            out[line.id] = CheckResult(line.id, "missing", missing_message(sub, line.name, failures))
        else:
            out[line.id] = _run_line(line, sub, session, config, hung, result.grader_faults, facts)
    return None


def grade_submission(
    path: Path,
    rubric: Rubric,
    zygote: Zygote,
    config: GradingConfig = DEFAULT_CONFIG,
    grants: dict[str, str] | None = None,
) -> StudentResult:
    """Grade one student (a file or folder) against ``rubric`` in workers forked by ``zygote`` (one per
    group of graded names, ``phases.phases``), within ``config.student_budget_s`` in all. ``grants``
    maps graded names to the review digests a TA granted for this student (``review.py``)."""
    sub = load_submission(Path(path), rubric.assignment, rubric.module)
    result = StudentResult(student=sub.student, assignment=rubric.assignment, isolation=zygote.level)
    if sub.load_error:
        result.errors.append(sub.load_error)
        result.checks = _all_lines(rubric, "error", NOT_LOADED)
        return result
    out: dict[str, CheckResult] = {}
    runnable = _decide_statically(sub, rubric, grants or {}, out, result)
    facts = SourceFacts(sub.tree, sub.source, sub.scan.aliases)
    deadline = time.monotonic() + config.student_budget_s
    hung: set[str] = set()
    not_loaded = None  # the status of a failed load: the same module-level code fails again
    for phase in phases(runnable):
        if not_loaded or time.monotonic() >= deadline:
            status, msg = (not_loaded, NOT_LOADED) if not_loaded else ("timeout", budget_spent(config))
            out.update({ln.id: CheckResult(ln.id, status, msg) for ln in phase.lines})
            continue
        session = session_for(phase, sub, zygote, config.limits, deadline)
        try:
            not_loaded = _run_phase(phase.lines, sub, session, config, hung, facts, out, result)
        finally:
            session.stop()
    checks = _share_repeated_cases(_forbid_whole_names([out[line.id] for line in rubric.lines]), rubric)
    result.checks = hints.add_hints(checks, rubric)
    _summarize_stubs(result)
    return result


def _share_repeated_cases(checks: list[CheckResult], rubric: Rubric) -> list[CheckResult]:
    """One case shown once per graded name: a line whose reproducer repeats an earlier line's of the same
    name points to it (``step_defaults`` and ``step_hyperparams`` often shrink to the same case)."""
    by_name = hints.failed_by_name(checks, rubric, ("failed", "error"))
    shared = {k: v for group in by_name.values() for k, v in reproduce.share_repeated(group).items()}
    return [dataclasses.replace(c, feedback=shared[c.id]) if c.id in shared else c for c in checks]


def _summarize_stubs(result: StudentResult) -> None:
    """Nothing implemented yet: one line at the top of the record instead of the same message on every
    rubric line (each line then points up to it)."""
    checks = result.checks
    if not checks or any(c.status != "missing" for c in checks):
        return
    result.errors.insert(0, "Nothing is implemented yet: every graded name still raises "
                            f"{NOT_IMPLEMENTED} or is not defined. Each line below is graded once you "
                            "replace its `raise NotImplementedError` with your code.")
    result.checks = [CheckResult(c.id, "missing", f"{c.feedback} (see above)") for c in checks]
