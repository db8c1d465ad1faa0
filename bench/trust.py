"""What the trust layers cost per submission: the submission policy (static, in the grader), the
dispatch-mode tripwire (in the worker, around every call of student code), and the seccomp filter
(once per worker). Measured, never asserted."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder.grading.engine import grade_submission
from autograder.grading.loader import load_submission
from autograder.grading.rubric import assignment_ids, load_rubric
from autograder.policy import check_source
from autograder.sandbox.runner import Zygote
from autograder.sandbox.tripwire_names import tripwire_config

ROOT = Path(__file__).resolve().parents[1]


def _policy(console: Console) -> None:
    table = Table(title="Submission policy (parse + policy in the grader, per submission)")
    for col in ("submission", "lines", "load + policy ms", "policy alone ms"):
        table.add_column(col)
    for assignment in assignment_ids():
        module = load_rubric(assignment).module
        for path in sorted((ROOT / "tests/submissions" / assignment / "correct").glob("*.py")):
            t0 = time.perf_counter()
            for _ in range(5):
                sub = load_submission(path, assignment, module)
            load_ms = (time.perf_counter() - t0) / 5 * 1e3
            t0 = time.perf_counter()
            for _ in range(5):
                check_source(sub.source, sub.tree)
            policy_ms = (time.perf_counter() - t0) / 5 * 1e3
            table.add_row(f"{assignment}/{path.name}", str(sub.source.count("\n")), f"{load_ms:.1f}",
                          f"{policy_ms:.1f}")
    console.print(table)


def _dispatch(console: Console) -> None:
    table = Table(title="Dispatch-mode tripwire: grading one correct submission, seconds (single job)")
    for col in ("submission", "without the mode", "with the mode", "overhead"):
        table.add_column(col)
    full = tripwire_config()
    without = {**full, "ops": []}
    zygotes = {"with": Zygote(tripwires=full), "without": Zygote(tripwires=without)}
    try:
        for z in zygotes.values():  # warm-up
            grade_submission(ROOT / "tests/submissions/02_optimizers/correct/loop.py",
                             load_rubric("02_optimizers"), z)
        for assignment in assignment_ids():
            path = sorted((ROOT / "tests/submissions" / assignment / "correct").glob("*.py"))[0]
            runs: dict[str, list[float]] = {name: [] for name in zygotes}
            for _ in range(3):  # interleaved, best of three: other load on the machine hits both alike
                for name, z in zygotes.items():
                    t0 = time.perf_counter()
                    grade_submission(path, load_rubric(assignment), z)
                    runs[name].append(time.perf_counter() - t0)
            secs = {name: min(r) for name, r in runs.items()}
            table.add_row(f"{assignment}/{path.name}", f"{secs['without']:.2f}", f"{secs['with']:.2f}",
                          f"{100 * (secs['with'] / secs['without'] - 1):+.0f}%")
    finally:
        for z in zygotes.values():
            z.close()
    console.print(table)


def _seccomp(console: Console) -> None:
    from autograder.sandbox.worker.confinement import seccomp

    if not seccomp.available():
        console.print("seccomp: not available on this machine")
        return
    times = []
    for _ in range(20):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            t0 = time.perf_counter()
            seccomp.apply()
            os.write(w, f"{time.perf_counter() - t0:.9f}".encode())
            os._exit(0)
        os.close(w)
        times.append(float(os.read(r, 64)))
        os.close(r)
        os.waitpid(pid, 0)
    console.print(f"seccomp filter: {len(seccomp.program()) // 8} BPF instructions, installed in "
                  f"{statistics.median(times) * 1e6:.0f} µs per worker (median of {len(times)})")


def main() -> None:
    console = Console(width=110)
    _policy(console)
    _seccomp(console)
    _dispatch(console)


if __name__ == "__main__":
    main()
