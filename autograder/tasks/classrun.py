"""One class run into one output folder: guard the folder, reuse what may be reused, grade the rest in
parallel lanes while each record streams into the staging folder, then swap the finished folder in.

Used by ``python -m autograder grade`` (``make grade``) and by ``make autograde``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..grading.batch import Lanes, grade_class
from ..grading.engine import DEFAULT_CONFIG, GradingConfig
from ..grading.loader import student_id
from ..grading.review import Grants
from ..grading.rubric import Rubric
from .fingerprint import kit_fingerprint, submission_hash
from .outdir import Staging, read_contents


@dataclass
class ClassRun:
    """What to grade (against ``rubric``, loaded once by the caller) and where. ``reuse_out`` also
    reuses matching records of a finished ``out``. ``level``: resolved by the caller, or None. ``lanes``:
    a lane pool shared with other classes of the same run (then ``jobs`` and ``level`` are its own)."""

    rubric: Rubric
    paths: list[Path]
    out: Path
    jobs: int = 1
    level: str | None = None
    force: bool = False
    resume: bool = False
    reuse_out: bool = False
    config: GradingConfig = DEFAULT_CONFIG
    grants: Grants = field(default_factory=dict)
    lanes: Lanes | None = None

    @property
    def assignment(self) -> str:
        return self.rubric.assignment


@dataclass
class RunResult:
    records: list[dict]
    timings: dict[str, float]
    run_info: dict
    reused: list[str] = field(default_factory=list)


def content_hashes(paths: list[Path], rubric: Rubric, grants: Grants | None = None) -> dict[str, str]:
    """``student -> content hash`` for every student id held by exactly one path. A student's review
    grants are part of it: granting (or revoking) a name makes the old record stale."""
    by_id: dict[str, list[Path]] = {}
    for p in paths:
        by_id.setdefault(student_id(p), []).append(p)
    hashes = {}
    for sid, group in by_id.items():
        if len(group) == 1:
            granted = (grants or {}).get(sid)
            suffix = "" if not granted else ":" + ",".join(f"{k}={v}" for k, v in sorted(granted.items()))
            hashes[sid] = submission_hash(group[0], rubric) + suffix
    return hashes


def run_class(
    run: ClassRun,
    *,
    on_start: Callable[[int, int], None] | None = None,
    on_done: Callable[[str], None] | None = None,
) -> RunResult:
    """Grade ``run.paths`` into ``run.out`` (see the module docstring); raise ``OutputConflict`` before
    grading anything when the folder cannot take this run. ``on_start(to_grade, reused)`` is called once
    the reusable records are known."""
    rubric = run.rubric
    students = {student_id(p) for p in run.paths}
    hashes = content_hashes(run.paths, rubric, run.grants)
    staging = Staging(run.out, run.assignment)
    staging.open(students, force=run.force, resume=run.resume)
    previous = read_contents(run.out)
    # A regrade of a published class stays published (same assignment): the TA need not publish again.
    published = bool(previous and previous.published and previous.assignment == run.assignment)
    reuse = run.resume or run.reuse_out
    reused = staging.reusable(hashes, from_out=reuse) if reuse else {}
    todo = [p for p in run.paths if student_id(p) not in reused]
    for record, seconds in reused.values():
        staging.save(record, hashes[record["student"]], seconds)
    if on_start:
        on_start(len(todo), len(reused))

    records, timings, run_info = grade_class(
        todo,
        rubric,
        jobs=run.jobs,
        level=run.level,
        config=run.config,
        on_done=on_done,
        on_record=lambda record, secs: staging.save(record, hashes.get(record["student"]), secs),
        grants=run.grants,
        lanes=run.lanes,
    )
    for sid, (record, seconds) in reused.items():
        records.append(record)
        timings[sid] = round(seconds, 3)
    records.sort(key=lambda r: r["student"])
    run_info = {
        **run_info,
        "assignment": run.assignment,
        "students": sorted(students),
        "inputs": {s: hashes[s] for s in sorted(hashes)},
        "reused": sorted(reused),
        "kit": kit_fingerprint(),
        "graded_now": len(todo),
        "published": published,
    }
    staging.commit(records, rubric, timings, run_info)
    return RunResult(records, timings, run_info, sorted(reused))


def run_with_progress(run: ClassRun, console, *, quiet: bool = False) -> RunResult:
    """``run_class`` behind a rich progress bar (students done / to grade, elapsed, last student)."""
    return run_all_with_progress([run], console, quiet=quiet)[0]


def run_all_with_progress(runs: list[ClassRun], console, *, quiet: bool = False) -> list[RunResult]:
    """Several classes behind one progress display, one bar each. Classes sharing a lane pool of more
    than one job are graded at the same time (one thread each feeds the pool), so no lane idles at the
    tail of one class while another waits; otherwise one after the other. Every class finishes (or is
    refused) before the first error is raised again."""
    from concurrent.futures import ThreadPoolExecutor, wait

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("grading {task.fields[assignment]}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), TextColumn("{task.description}"), console=console, disable=quiet)
    # The display starts once a class's output folder has taken the run (``on_start``): a refused
    # folder (OutputConflict) is said on a clean console, with no bar drawn before it.
    shown = threading.Lock()

    def show() -> None:
        with shown:
            if not progress.live.is_started:
                progress.start()

    def one(run: ClassRun) -> RunResult:
        task = []  # its bar, added once the folder took the run

        def started(todo: int, reused: int) -> None:
            if reused:
                prefix = f"{run.assignment}: " if len(runs) > 1 else ""
                console.print(f"{prefix}reusing {reused} finished record(s) of unchanged submissions")
            task.append(progress.add_task("", total=todo, assignment=run.assignment))
            show()

        return run_class(run, on_start=started,
                         on_done=lambda sid: progress.update(task[0], advance=1, description=sid))

    together = len(runs) > 1 and all(r.lanes is not None and r.lanes.jobs > 1 for r in runs)
    try:
        if not together:
            return [one(run) for run in runs]
        with ThreadPoolExecutor(max_workers=len(runs)) as threads:
            futures = [threads.submit(one, run) for run in runs]
            try:
                wait(futures)
            except BaseException:  # Ctrl-C: drop the students not started yet, then the threads end
                for run in runs:
                    run.lanes.close(cancel=True)
                raise
            return [f.result() for f in futures]
    finally:
        if progress.live.is_started:
            progress.stop()
