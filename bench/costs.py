"""Where the time goes: per assignment and rubric line, the seconds, worker round trips and hypothesis
examples spent grading the bundled correct submissions (one warm zygote, a single job, the hypothesis
examples already drawn: a grader process draws them once per line, for its first submission).

Each check is wrapped (in this process only) to read the session's round-trip counter and
``hypo.examples_tried`` around it; whatever is not inside a line's check (loading and scanning the
file, starting the workers of the visible phase and of each hidden line) is the ``(start)`` row.

``python -m bench.costs [--assignment ID] [--json FILE]``: the table, and optionally the numbers as
JSON (to compare two branches on the same machine load).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder.families import base, hypo
from autograder.grading.engine import grade_submission
from autograder.grading.rubric import assignment_ids, load_rubric
from autograder.sandbox.runner import Zygote
from autograder.sandbox.session import WorkerSession

ROOT = Path(__file__).resolve().parents[1]
START = "(start)"


class Meter:
    """Seconds, round trips and examples per rubric line id, summed over the submissions graded."""

    def __init__(self) -> None:
        self.rows: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0])
        self.loads = 0

    def wrap(self, fn):
        def measured(ctx: base.CheckContext):
            t0, trips0, ex0 = time.perf_counter(), ctx.session.round_trips, hypo.examples_tried
            try:
                return fn(ctx)
            finally:
                row = self.rows[ctx.line.id]
                row[0] += time.perf_counter() - t0
                row[1] += ctx.session.round_trips - trips0
                row[2] += hypo.examples_tried - ex0

        return measured


def measure(assignment: str, zygote: Zygote) -> dict:
    """Grade every correct submission of ``assignment``: {line id: [seconds, trips, examples] per
    submission (means)} plus ``(start)`` and the per-submission wall times."""
    rubric = load_rubric(assignment)
    meter = Meter()
    saved = dict(base.REGISTRY)
    base.REGISTRY.update({kind: meter.wrap(fn) for kind, fn in saved.items()})
    load = WorkerSession.load

    def counted_load(session: WorkerSession):
        meter.loads += 1
        return load(session)

    WorkerSession.load = counted_load
    walls = {}
    try:
        for path in sorted((ROOT / "tests/submissions" / assignment / "correct").glob("*.py")):
            t0 = time.perf_counter()
            grade_submission(path, rubric, zygote)
            walls[path.name] = time.perf_counter() - t0
    finally:
        base.REGISTRY.update(saved)
        WorkerSession.load = load
    n = len(walls) or 1
    lines = {line.id: [v / n for v in meter.rows[line.id]] for line in rubric.lines}
    lines[START] = [sum(walls.values()) / n - sum(row[0] for row in lines.values()), meter.loads / n, 0]
    return {"lines": lines, "walls": walls}


def table(assignment: str, result: dict) -> Table:
    t = Table(title=f"{assignment}: cost per rubric line (mean over the correct submissions)")
    for col in ("line", "seconds", "round trips", "examples"):
        t.add_column(col, justify="left" if col == "line" else "right")
    lines = result["lines"]
    for line_id, (secs, trips, examples) in sorted(lines.items(), key=lambda kv: -kv[1][0]):
        t.add_row(line_id, f"{secs:.3f}", f"{trips:.0f}", f"{examples:.0f}")
    totals = [sum(v[i] for v in lines.values()) for i in range(3)]
    t.add_row("total", f"{totals[0]:.3f}", f"{totals[1]:.0f}", f"{totals[2]:.0f}", style="bold")
    walls = ", ".join(f"{name} {secs:.2f} s" for name, secs in result["walls"].items())
    t.caption = f"one submission, warm zygote: {walls}"
    return t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.costs", description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", action="append", choices=assignment_ids())
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv or [])
    console = Console(width=110)
    results = {}
    with Zygote() as zygote:
        grade_submission(ROOT / "tests/submissions/01_gradient_descent/correct/loop.py",
                         load_rubric("01_gradient_descent"), zygote)  # warm-up, not counted
        for assignment in args.assignment or assignment_ids():
            # the first submission of an assignment draws the examples every later one reuses: untimed
            first = sorted((ROOT / "tests/submissions" / assignment / "correct").glob("*.py"))[0]
            grade_submission(first, load_rubric(assignment), zygote)
            results[assignment] = measure(assignment, zygote)
            console.print(table(assignment, results[assignment]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
