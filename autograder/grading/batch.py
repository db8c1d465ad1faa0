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

from ..reporters._common import id_problem, safe_id
from ..sandbox import levels
from ..sandbox.runner import Zygote
from .engine import DEFAULT_CONFIG, GradingConfig, grade_submission
from .loader import candidates, locate, student_id
from .results import CheckResult, StudentResult, student_record
from .review import Grants
from .rubric import Rubric

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
    """Start this lane's zygote once; it serves every student the lane grades. ``level`` was resolved
    once for the run (``choose_level``), so no lane probes the machine again."""
    global _zygote
    _zygote = Zygote(level=level)
    atexit.register(_zygote.close)


def _pool_lane_init(level: str) -> None:
    """A lane process of a pool: torch single-threaded on the grader's side too (the reference runs
    here), so N lanes use N cores instead of fighting over them; then the lane's zygote."""
    import torch

    torch.set_num_threads(1)
    _lane_init(level)


def graded_file_fields(path: Path, rubric) -> dict:
    """The record's ``graded_file`` (relative to the student's path, so regrades stay byte-identical) and,
    when a folder holds several files that could be the submission, a flag naming the one taken."""
    path = Path(path)
    target, _ = locate(path, rubric.module, rubric.assignment)
    if target is None:
        return {}
    fields: dict = {"graded_file": target.name if path.is_file() else target.relative_to(path).as_posix()}
    if path.is_dir():
        others = [p.name for p in candidates(target.parent, rubric.module, rubric.assignment) if p != target]
        if others:
            fields["flags"] = [
                {
                    "kind": "several_files",
                    "message": (
                        f"several files could be the submission: {target.name} was graded (a notebook "
                        f"named {rubric.assignment}.ipynb comes first, then {rubric.module}.py); "
                        f"not graded: {', '.join(others)}"
                    ),
                    "lines": others,
                }
            ]
    return fields


def grade_path(
    path: Path,
    rubric: Rubric,
    zygote: Zygote,
    config: GradingConfig = DEFAULT_CONFIG,
    grants: dict[str, str] | None = None,
    faults: list[str] | None = None,
) -> dict:
    """Grade one student and return their record, naming the file graded. A grader fault becomes an
    error record, never an exception; its traceback is appended to ``faults`` (for the TA only)."""
    try:
        result = grade_submission(Path(path), rubric, zygote, config, grants)
    except Exception:  # a bug in the kit: keep the class going, say so in the record
        result = StudentResult(
            student=student_id(Path(path)),
            assignment=rubric.assignment,
            checks=[
                CheckResult(line.id, "error", "internal grader fault; a TA has been told")
                for line in rubric.lines
            ],
            grader_faults=[traceback.format_exc(limit=3)],
        )
    if faults is not None:
        faults.extend(result.grader_faults)
    record = student_record(result, rubric)
    extra = graded_file_fields(Path(path), rubric)
    if extra.get("flags"):
        record["flags"] = [*record.get("flags", []), *extra.pop("flags")]
    record.update(extra)
    return record


def _grade_one(
    path: str, rubric: Rubric, config: GradingConfig, grants: dict[str, str] | None = None
) -> tuple[dict, float, list[str]]:
    """Grade one student in this lane's zygote: (record, seconds, grader faults for the TA)."""
    start = time.monotonic()
    faults: list[str] = []
    record = grade_path(Path(path), rubric, _zygote, config, grants, faults)
    return record, time.monotonic() - start, faults


def _error_record(sid: str, msg: str, rubric: Rubric) -> dict:
    """The record of a student who cannot be graded at all (every line ``error``, the reason once)."""
    result = StudentResult(
        student=sid,
        assignment=rubric.assignment,
        errors=[msg],
        checks=[CheckResult(line.id, "error", f"not graded: {msg}") for line in rubric.lines],
    )
    return student_record(result, rubric)


def _ungradable(sid: str, group: list[Path]) -> tuple[str, str] | None:
    """(record name, message) when these paths cannot be graded under ``sid``: an unusable id (the
    record goes under a safe name) or several submissions sharing one id."""
    problem = id_problem(sid)
    listing = ", ".join(str(p) for p in group)
    if problem:
        return safe_id(sid), f"{listing}: {problem}; rename the submission"
    if len(group) > 1:
        return sid, f"two or more submissions share the student id {sid!r}: {listing}"
    return None


def _gradable(paths: list[Path], rubric: Rubric, finished: Callable) -> list[Path]:
    """One path per student id; ids that cannot be graded get their error record at once."""
    by_id: dict[str, list[Path]] = {}
    for p in paths:
        by_id.setdefault(student_id(p), []).append(p)
    unique = []
    for sid, group in sorted(by_id.items()):
        bad = _ungradable(sid, group)
        if bad:
            finished(_error_record(*bad, rubric), 0.0)
        else:
            unique.append(group[0])
    return unique


class Lanes:
    """The parallel lanes of one run, shared by every class graded in it (``make grade`` grades the
    three sample classes in one pool): ``jobs`` spawned processes, each with its own zygote, or, with one
    job, a zygote in this process. Several threads may call ``grade`` at once when ``jobs > 1``; a
    hanging student holds one lane for its own lines' timeouts while the others go on."""

    def __init__(self, jobs: int, level: str) -> None:
        self.jobs, self.level = max(1, jobs), level
        self._pool: ProcessPoolExecutor | None = None
        self._inline: Zygote | None = None

    def grade(self, paths: list[Path], rubric: Rubric, config: GradingConfig, grants: Grants,
              finished: Callable) -> None:
        """Grade ``paths``; ``finished(record, seconds, faults)`` in the calling thread per student."""
        if self.jobs == 1:
            self._grade_inline(paths, rubric, config, grants, finished)
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=get_context("spawn"),
                                             initializer=_pool_lane_init, initargs=(self.level,))
        futures = [self._pool.submit(_grade_one, str(p), rubric, config, grants.get(student_id(p)))
                   for p in paths]
        try:
            for fut in as_completed(futures):
                finished(*fut.result())
        except BaseException:  # Ctrl-C: students not started yet are dropped, not graded on the way out
            for fut in futures:
                fut.cancel()
            raise

    def _grade_inline(self, paths: list[Path], rubric: Rubric, config: GradingConfig, grants: Grants,
                      finished: Callable) -> None:
        global _zygote
        if self._inline is None:
            _lane_init(self.level)
            self._inline = _zygote
        _zygote = self._inline
        for p in paths:
            finished(*_grade_one(str(p), rubric, config, grants.get(student_id(p))))

    def close(self, *, cancel: bool = False) -> None:
        """End the lanes and their zygotes (``cancel``: drop the students not started yet)."""
        if self._pool is not None:
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
            self._pool = None
        if self._inline is not None:
            self._inline.close()
            self._inline = None

    def __enter__(self) -> Lanes:
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.close(cancel=exc_type is not None)


def grade_class(
    paths: list[Path],
    rubric: Rubric,
    *,
    jobs: int = 1,
    level: str | None = None,
    config: GradingConfig = DEFAULT_CONFIG,
    on_done: Callable[[str], None] | None = None,
    on_record: Callable[[dict, float], None] | None = None,
    grants: Grants | None = None,
    lanes: Lanes | None = None,
) -> tuple[list[dict], dict[str, float], dict]:
    """Grade every path against ``rubric``; return (records, seconds per student, run info for run.json).

    ``level`` is a level the caller resolved (``choose_level``, which the CLI calls once per run); None
    resolves it here, once. ``on_record(record, seconds)`` is called in this process as each student
    finishes (before ``on_done``), so a caller can store records while the class is still being graded.
    ``grants`` are the TA's review grants (``review.load_grants``). ``lanes``: a pool shared with other
    classes of the same run (its jobs and level then apply); None starts and ends lanes of its own.
    Grader faults go to run info, never to a record.
    """
    level = lanes.level if lanes is not None else level if level in levels.LEVELS else choose_level(level)
    records: list[dict] = []
    timings: dict[str, float] = {}
    faults: dict[str, list[str]] = {}

    def finished(record: dict, seconds: float, student_faults: list[str] = ()) -> None:
        records.append(record)
        timings[record["student"]] = seconds
        if student_faults:
            faults[record["student"]] = list(student_faults)
        if on_record:
            on_record(record, seconds)
        if on_done:
            on_done(record["student"])

    unique = _gradable(paths, rubric, finished)
    start = time.monotonic()
    jobs = lanes.jobs if lanes is not None else max(1, min(jobs, len(unique) or 1))
    if unique and lanes is not None:
        lanes.grade(unique, rubric, config, grants or {}, finished)
    elif unique:  # else nothing to grade: no zygote to start
        with Lanes(jobs, level) as own:
            own.grade(unique, rubric, config, grants or {}, finished)
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
