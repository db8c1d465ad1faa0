"""Time to grade one correct submission per assignment with a single job and a warm zygote (target on 2
quiet cores: <= 1.0 s each).

Zygote start-up (importing torch once per lane) is reported separately: it is paid once per lane,
not once per student. So is the first submission of each assignment in a grader process, which draws
the hypothesis examples every later one reuses (``hypo._DRAWN``): it is graded once before timing.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder.grading.engine import grade_submission
from autograder.grading.results import student_record
from autograder.grading.rubric import assignment_ids, load_rubric
from autograder.sandbox.runner import Zygote

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 1.0


def main() -> None:
    console = Console(width=110)
    start = time.perf_counter()
    zygote = Zygote()
    table = Table(title="Grading one correct submission (single job)")
    for col in ("assignment", "submission", "score", "seconds", "target"):
        table.add_column(col)
    try:
        warm = ROOT / "tests/submissions/02_optimizers/correct/loop.py"
        grade_submission(warm, load_rubric("02_optimizers"), zygote)
        warm = time.perf_counter() - start
        for assignment in assignment_ids():
            rubric = load_rubric(assignment)
            paths = sorted((ROOT / "tests/submissions" / assignment / "correct").glob("*.py"))
            grade_submission(paths[0], rubric, zygote)  # draws this assignment's examples, not timed
            for path in paths:
                t0 = time.perf_counter()
                record = student_record(grade_submission(path, rubric, zygote), rubric)
                secs = time.perf_counter() - t0
                table.add_row(
                    assignment,
                    path.name,
                    f"{record['score']:g}/{rubric.max_score:g}",
                    f"{secs:.2f}",
                    "ok" if secs <= TARGET_S else "SLOW",
                )
    finally:
        zygote.close()
    console.print(table)
    console.print(f"zygote start + first (warm-up) grading: {warm:.2f} s")
