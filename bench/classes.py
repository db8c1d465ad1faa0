"""Whole runs, start-up included: a class of 40 correct 02_optimizers submissions graded by the CLI with
``--jobs 1`` and ``--jobs 2`` (targets on 2 quiet cores: <= 25 s with 2 jobs), and ``make grade``'s
run over the bundled sample classes of all three assignments in one lane pool (target <= 45 s; one
sample student hangs on purpose and costs its own lines' timeouts).

``python -m bench.classes [--jobs 1 2] [--students 40] [--no-samples]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_optimizers"


def make_class(folder: Path, n: int) -> list[Path]:
    """``n`` students, copies of the correct 02 submissions in turn."""
    sources = sorted((ROOT / "tests/submissions" / ASSIGNMENT / "correct").glob("*.py"))
    folder.mkdir(parents=True)
    for i in range(n):
        shutil.copy(sources[i % len(sources)], folder / f"s{i:03d}.py")
    return sorted(folder.iterdir())


def timed(cmd: list[str], cwd: Path = ROOT) -> float:
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | tuple[str, ...] = ()) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.classes", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--no-samples", action="store_true")
    args = parser.parse_args(list(argv))
    table = Table(title="Whole runs (wall seconds, sandbox start-up included)")
    for col in ("run", "jobs", "seconds", "per student"):
        table.add_column(col, justify="left" if col == "run" else "right")
    with tempfile.TemporaryDirectory(prefix="kit-bench-classes-") as tmp:
        paths = make_class(Path(tmp) / "class", args.students)
        for jobs in args.jobs:
            secs = timed([sys.executable, "-m", "autograder", "grade", "--assignment", ASSIGNMENT,
                          *map(str, paths), "--out", str(Path(tmp) / f"out{jobs}"), "--jobs", str(jobs),
                          "--quiet"])
            table.add_row(f"{args.students} x {ASSIGNMENT}", str(jobs), f"{secs:.1f}",
                          f"{secs / args.students:.2f}")
        if not args.no_samples:  # run from the temporary folder: its grades/samples/, not the kit's
            secs = timed([sys.executable, "-m", "autograder", "grade-samples", "--jobs", "2", "--quiet"],
                         cwd=Path(tmp))
            table.add_row("make grade (3 sample classes, one pool)", "2", f"{secs:.1f}", f"{secs / 15:.2f}")
    Console(width=110).print(table)


if __name__ == "__main__":
    main(sys.argv[1:])
