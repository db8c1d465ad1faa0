"""Grade a whole class: one sandbox zygote per parallel lane, a progress bar, every student graded
whatever the others do. Lanes are processes (spawned, not forked), so grading is truly parallel."""

from __future__ import annotations

import atexit
import os
import platform
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from .engine import DEFAULT_CONFIG, GradingConfig, grade_submission
from .loader import student_id
from .reporters._common import id_problem, safe_id
from .results import CheckResult, StudentResult, student_record
from .review import Grants
from .rubric import load_rubric
from .sandbox import levels
from .sandbox.runner import Zygote

_zygote: Zygote | None = None


class UnknownLevel(ValueError):
    """An isolation level was asked for that this kit does not know or this machine cannot give."""


def choose_level(requested: str | None) -> str:
    """The sandbox level of this run: the one asked for (flag or $KIT_ISOLATION), else the strongest
    available. Asking for one this machine cannot give is an error, never a silent downgrade."""
    try:
        return levels.resolve_level(requested)
    except (ValueError, levels.IsolationUnavailable) as exc:
        raise UnknownLevel(str(exc)) from None


def _lane_init(level: str) -> None:
    """Start this lane's zygote once; it serves every student the lane grades."""
    global _zygote
    _zygote = Zygote(level=level)
    atexit.register(_zygote.close)


def _grade_one(
    path: str, assignment: str, config: GradingConfig, grants: dict[str, str] | None = None
) -> tuple[dict, float, list[str]]:
    """Grade one student in this lane: (record, seconds, grader faults for the TA). A grader fault
    becomes an error record, never a crash."""
    rubric = load_rubric(assignment)
    start = time.monotonic()
    try:
        result = grade_submission(Path(path), assignment, _zygote, config, grants)
    except Exception:  # a bug in the kit: keep the class going, say so in the record
        result = StudentResult(
            student=student_id(Path(path)),
            assignment=assignment,
            checks=[
                CheckResult(line.id, "error", "internal grader fault; a TA has been told")
                for line in rubric.lines
            ],
            grader_faults=[traceback.format_exc(limit=3)],
        )
    return student_record(result, rubric), time.monotonic() - start, list(result.grader_faults)


def _error_record(sid: str, msg: str, assignment: str) -> dict:
    """The record of a student who cannot be graded at all (every line ``error``, the reason once)."""
    rubric = load_rubric(assignment)
    result = StudentResult(
        student=sid,
        assignment=assignment,
        errors=[msg],
        checks=[CheckResult(line.id, "error", f"not graded: {msg}") for line in rubric.lines],
    )
    return student_record(result, rubric)


def grade_class(
    paths: list[Path],
    assignment: str,
    *,
    jobs: int = 1,
    level: str | None = None,
    config: GradingConfig = DEFAULT_CONFIG,
    on_done: Callable[[str], None] | None = None,
    grants: Grants | None = None,
) -> tuple[list[dict], dict[str, float], dict]:
    """Grade every path; return (records, seconds per student, run info for run.json). ``grants`` are
    the TA's review grants (``review.load_grants``). Grader faults go to run info, never to a record."""
    level = choose_level(level)
    grants = grants or {}
    by_id: dict[str, list[Path]] = {}
    for p in paths:
        by_id.setdefault(student_id(p), []).append(p)
    records: list[dict] = []
    timings: dict[str, float] = {}
    faults: dict[str, list[str]] = {}
    unique = []
    for sid, group in sorted(by_id.items()):
        problem = id_problem(sid)
        if problem or len(group) > 1:
            if problem:  # the record goes under a safe name; the message says which submission it was
                name = safe_id(sid)
                msg = f"{', '.join(str(p) for p in group)}: {problem}; rename the submission"
            else:
                name = sid
                listing = ", ".join(str(p) for p in group)
                msg = f"two or more submissions share the student id {sid!r}: {listing}"
            records.append(_error_record(name, msg, assignment))
            timings[name] = 0.0
            if on_done:
                on_done(name)
        else:
            unique.append(group[0])

    def done(rec: dict, secs: float, student_faults: list[str]) -> None:
        records.append(rec)
        timings[rec["student"]] = secs
        if student_faults:
            faults[rec["student"]] = student_faults
        if on_done:
            on_done(rec["student"])

    start = time.monotonic()
    jobs = max(1, min(jobs, len(unique) or 1))
    if jobs == 1:
        _lane_init(level)
        try:
            for p in unique:
                done(*_grade_one(str(p), assignment, config, grants.get(student_id(p))))
        finally:
            _zygote.close()
    else:
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=get_context("spawn"), initializer=_lane_init, initargs=(level,)
        ) as pool:
            futures = [
                pool.submit(_grade_one, str(p), assignment, config, grants.get(student_id(p))) for p in unique
            ]
            for fut in as_completed(futures):
                done(*fut.result())
    records.sort(key=lambda r: r["student"])
    run_info = {
        "isolation": level,
        "jobs": jobs,
        "students": len(records),
        "wall_seconds": round(time.monotonic() - start, 3),
        "python": platform.python_version(),
        "torch": _torch_version(),
        "cpus": os.cpu_count(),
    }
    if faults:  # tracebacks of the kit: for the TA only, never in anything a student sees
        run_info["grader_faults"] = {s: faults[s] for s in sorted(faults)}
    return records, {k: round(v, 3) for k, v in timings.items()}, run_info


def _torch_version() -> str:
    import torch

    return torch.__version__
