"""What the trust layers cost per submission: the submission policy (static, in the grader), the guards
that switch off torch's implementation of the graded family (once per worker: registering the raising
kernels, replacing the functions' code), the one worker per group of graded names they need, the
seccomp filter (once per worker), and the TA-side similarity report. Measured, never asserted."""

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


def _guards(console: Console) -> None:
    from autograder.families.recipes import RECIPES
    from autograder.sandbox import guards, standins
    from autograder.sandbox.session import WorkerSession

    table = Table(title="Guards: one worker's start and load of a correct submission, ms (median of 7)")
    for col in ("worker of", "switched off", "without guards", "with guards", "overhead"):
        table.add_column(col)
    zygotes = {"with": Zygote(), "without": Zygote(guards={})}
    try:
        for name in ("minibatches", "PowerDecayLR", "SGD", "Dropout", "BatchNorm1d"):
            recipe = RECIPES[name]
            source = (ROOT / "tests/submissions/02_optimizers/correct/loop.py").read_text()
            runs: dict[str, list[float]] = {k: [] for k in zygotes}
            for _ in range(7):  # interleaved: other load on the machine hits both alike
                for key, z in zygotes.items():
                    s = WorkerSession(z, source, "optimizers.py", "optimizers",
                                      disabled={f: guards.GUARDS[f].label for f in recipe.disabled},
                                      standins=standins.sources(recipe.standins),
                                      masks=guards.masked_files(recipe.disabled))
                    t0 = time.perf_counter()
                    s.load()
                    runs[key].append(time.perf_counter() - t0)
                    s.stop()
            ms = {k: statistics.median(v) * 1e3 for k, v in runs.items()}
            table.add_row(name, ", ".join(recipe.disabled) or "nothing", f"{ms['without']:.0f}",
                          f"{ms['with']:.0f}", f"{ms['with'] - ms['without']:+.0f} ms")
        for assignment in assignment_ids():
            path = sorted((ROOT / "tests/submissions" / assignment / "correct").glob("*.py"))[0]
            grade_submission(path, load_rubric(assignment), zygotes["with"])  # draws the examples
            t0 = time.perf_counter()
            grade_submission(path, load_rubric(assignment), zygotes["with"])
            console.print(f"{assignment}/{path.name}: graded in {time.perf_counter() - t0:.2f} s with its "
                          f"guarded workers")
    finally:
        for z in zygotes.values():
            z.close()
    console.print(table)


def _similarity(console: Console) -> None:
    from autograder.tasks import similarity

    for assignment in assignment_ids():
        folder = ROOT / "tests/submissions" / assignment / "sample_class"
        paths = sorted(folder.iterdir())
        t0 = time.perf_counter()
        similarity.similarity_report(assignment, paths)
        seconds = time.perf_counter() - t0
        console.print(f"similarity report of {assignment}'s sample class ({len(paths)} students, against "
                      f"each other and torch's sources): {seconds:.2f} s, "
                      f"{seconds / len(paths) * 1e3:.0f} ms a student")


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
    _guards(console)
    _similarity(console)


if __name__ == "__main__":
    main()
