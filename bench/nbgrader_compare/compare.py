"""Grade the same 20 notebooks with plain ``nbgrader autograde`` and with the kit; time both, count catches.

The nbgrader way is a temporary course with its own ``nbgrader_config.py`` and nbgrader's stock
autograde pipeline: its ``Execute`` preprocessor runs each submitted notebook top to bottom in a
kernel, with the hidden tests restored into the test cells from the gradebook. The only setting
changed is ``Execute.timeout`` (300 s per cell, as the kit's own ``nbgrader_config.py`` has it), so the
notebooks' training runs can finish. ``generate_assignment`` (once per assignment, before release) is
timed apart from ``autograde`` (what grading a class costs); the ratio uses ``autograde`` only.

The kit way is ``python -m autograder grade --assignment A <notebooks> --out DIR --jobs 2 --quiet``,
one command per assignment, start-up included.

A submission is *caught* when it loses points. Correct submissions that lose points are reported as
false alarms. Experiment cells (plots, training runs) are part of what nbgrader executes; their share
of its time is read from the cell timings nbclient records in the autograded notebooks, which gives
the ratio without them at no extra cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from rich.console import Console
from rich.table import Table

from .generate import REPO, assignments, source_path, submission_path, write_material
from .submissions import SUBMISSIONS, Submission

JOBS = 2
TARGET_RATIO = 4.0
CELL_TIMEOUT_S = 300
COURSE_ID = "bench"
NBGRADER_CONFIG = f'''\
# A plain nbgrader course: stock autograde pipeline (Execute runs every cell in a kernel).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{COURSE_ID}"
c.Execute.timeout = {CELL_TIMEOUT_S}
'''


@dataclass
class Outcome:
    """One submission graded one way."""

    score: float
    max_score: float
    lost: list[str]  # test cells (nbgrader) or rubric lines (kit) that lost points

    @property
    def caught(self) -> bool:
        return self.score < self.max_score


@dataclass
class Run:
    """One way of grading the class: wall seconds per assignment, and each submission's outcome."""

    per_assignment: dict[str, float]
    outcomes: dict[tuple[str, str], Outcome]
    setup_seconds: float = 0.0
    experiments: dict[str, float] | None = None  # seconds spent in experiment cells, per assignment

    @property
    def seconds(self) -> float:
        return sum(self.per_assignment.values())

    @property
    def experiment_seconds(self) -> float | None:
        return None if self.experiments is None else sum(self.experiments.values())


def _run(cmd: list[str], cwd: Path, env: dict | None = None) -> float:
    """Run ``cmd``; return its wall time. A failure is an error: a bench that silently skips is worse."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return seconds


# -------------------------------------------------------------------------------------------- nbgrader


def build_course(course: Path, material: Path) -> None:
    """An nbgrader course folder: config, the instructor notebooks, the 20 submissions."""
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    for assignment in assignments():
        target = course / "source" / assignment
        target.mkdir(parents=True)
        shutil.copy(source_path(material, assignment), target / f"{assignment}.ipynb")
        for extra in (REPO / "solutions" / assignment).glob("*.py"):  # the submission self-check the
            shutil.copy(extra, target / extra.name)  # notebook runs, as in a real course folder
    for sub in SUBMISSIONS:
        target = course / "submitted" / sub.student / sub.assignment
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(submission_path(material, sub), target / f"{sub.assignment}.ipynb")


def _cell_seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = dt.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def experiment_seconds(course: Path) -> dict[str, float] | None:
    """Seconds the kernels spent in ``experiment`` cells per assignment, from nbclient's cell timings
    in the autograded notebooks (None when nothing was timed)."""
    totals, timed = dict.fromkeys(assignments(), 0.0), False
    for sub in SUBMISSIONS:
        path = course / "autograded" / sub.student / sub.assignment / f"{sub.assignment}.ipynb"
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and "execution" in cell.get("metadata", {}):
                timed = True
            if "experiment" in cell.get("metadata", {}).get("tags", []):
                totals[sub.assignment] += _cell_seconds(cell)
    return totals if timed else None


def run_nbgrader(course: Path, material: Path) -> Run:
    build_course(course, material)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    nbgrader = [sys.executable, "-m", "nbgrader"]
    setup = sum(_run([*nbgrader, "generate_assignment", a, "--log-level=WARN"], course, env)
                for a in assignments())
    grading = {a: _run([*nbgrader, "autograde", a, "--log-level=WARN"], course, env) for a in assignments()}
    return Run(grading, nbgrader_outcomes(course), setup_seconds=setup,
               experiments=experiment_seconds(course))


def nbgrader_outcomes(course: Path) -> dict[tuple[str, str], Outcome]:
    """Each submission's score from nbgrader's gradebook, with the test cells that lost points."""
    from nbgrader.api import Gradebook

    outcomes = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        for sub in SUBMISSIONS:
            found = gb.find_submission(sub.assignment, sub.student)
            cells = found.notebooks[0].grades
            lost = sorted(g.name for g in cells if (g.score or 0.0) < g.max_score)
            outcomes[sub.assignment, sub.student] = Outcome(found.score, found.max_score, lost)
    return outcomes


# -------------------------------------------------------------------------------------------- the kit


def run_kit(out: Path, material: Path, jobs: int = JOBS) -> Run:
    """Grade each assignment's notebooks as one class through the CLI, start-up included."""
    seconds = {}
    for assignment in assignments():
        subs = [s for s in SUBMISSIONS if s.assignment == assignment]
        cmd = [sys.executable, "-m", "autograder", "grade", "--assignment", assignment,
               *(str(submission_path(material, s)) for s in subs), "--out", str(out / assignment),
               "--jobs", str(jobs), "--quiet"]
        seconds[assignment] = _run(cmd, REPO)
    return Run(seconds, kit_outcomes(out))


def kit_outcomes(out: Path) -> dict[tuple[str, str], Outcome]:
    """Each submission's score from the kit's JSON results, with the rubric lines that lost points."""
    outcomes = {}
    for sub in SUBMISSIONS:
        record = json.loads((out / sub.assignment / f"{sub.student}.json").read_text())
        lost = sorted(item["id"] for item in record["items"] if item["score"] < item["max_score"])
        outcomes[sub.assignment, sub.student] = Outcome(record["score"], record["max_score"], lost)
    return outcomes


# -------------------------------------------------------------------------------------------- report


def _cell(outcome: Outcome) -> str:
    mark = "[red]caught[/red]" if outcome.caught else "[green]full marks[/green]"
    lost = f"\n[dim]{', '.join(outcome.lost)}[/dim]" if outcome.lost else ""
    return f"{outcome.score:g}/{outcome.max_score:g} {mark}{lost}"


def summarize(nbgrader: Run, kit: Run) -> dict:
    """The numbers of the comparison, as plain data (printed, and written with ``--json``)."""
    buggy = [s for s in SUBMISSIONS if s.buggy]
    correct = [s for s in SUBMISSIONS if not s.buggy]

    def caught(run: Run, sub: Submission) -> bool:
        return run.outcomes[sub.assignment, sub.student].caught

    ratio = nbgrader.seconds / kit.seconds
    summary = {
        "submissions": len(SUBMISSIONS),
        "buggy": len(buggy),
        "nbgrader_generate_s": round(nbgrader.setup_seconds, 1),
        "nbgrader_autograde_s": round(nbgrader.seconds, 1),
        "kit_s": round(kit.seconds, 1),
        "ratio": round(ratio, 2),
        "caught_nbgrader": sum(caught(nbgrader, s) for s in buggy),
        "caught_kit": sum(caught(kit, s) for s in buggy),
        "caught_only_kit": [s.student for s in buggy if caught(kit, s) and not caught(nbgrader, s)],
        "caught_only_nbgrader": [s.student for s in buggy if caught(nbgrader, s) and not caught(kit, s)],
        "caught_by_neither": [s.student for s in buggy if not caught(kit, s) and not caught(nbgrader, s)],
        "false_alarms_nbgrader": [f"{s.assignment}/{s.student}" for s in correct if caught(nbgrader, s)],
        "false_alarms_kit": [f"{s.assignment}/{s.student}" for s in correct if caught(kit, s)],
        "per_submission": {
            f"{s.assignment}/{s.student}": {
                "bug": s.reason if s.buggy else None,
                "nbgrader": vars(nbgrader.outcomes[s.assignment, s.student]),
                "kit": vars(kit.outcomes[s.assignment, s.student]),
            }
            for s in SUBMISSIONS
        },
    }
    summary["per_assignment_s"] = {
        a: {"nbgrader_autograde": round(nbgrader.per_assignment[a], 1),
            "kit": round(kit.per_assignment[a], 1)}
        for a in assignments()
    }
    if nbgrader.experiments is not None:
        without = nbgrader.seconds - nbgrader.experiment_seconds
        summary["nbgrader_experiment_cells_s"] = round(nbgrader.experiment_seconds, 1)
        summary["ratio_without_experiments"] = round(without / kit.seconds, 2)
        for a in assignments():
            summary["per_assignment_s"][a]["nbgrader_experiment_cells"] = round(nbgrader.experiments[a], 1)
    return summary


def print_report(nbgrader: Run, kit: Run, summary: dict, console: Console) -> None:
    table = Table(title="The same 20 notebooks, graded two ways", show_lines=True)
    for col in ("assignment", "submission (bug)", "nbgrader + hand-written hidden tests", "kit"):
        table.add_column(col, overflow="fold")
    for s in SUBMISSIONS:
        label = f"{s.student}\n[dim]{s.reason}[/dim]"
        table.add_row(s.assignment, label, _cell(nbgrader.outcomes[s.assignment, s.student]),
                      _cell(kit.outcomes[s.assignment, s.student]))
    console.print(table)

    n = summary["buggy"]
    times = Table(title="Time and catches")
    times.add_column("")
    times.add_column("nbgrader autograde", justify="right")
    times.add_column("of which experiment cells", justify="right")
    times.add_column(f"kit (--jobs {JOBS})", justify="right")
    for a, secs in summary["per_assignment_s"].items():
        count = sum(s.assignment == a for s in SUBMISSIONS)
        spent = secs.get("nbgrader_experiment_cells")
        times.add_row(f"wall time, {a} ({count} notebooks)", f"{secs['nbgrader_autograde']:.1f} s",
                      "-" if spent is None else f"{spent:.1f} s", f"{secs['kit']:.1f} s")
    spent = summary.get("nbgrader_experiment_cells_s")
    times.add_row(f"wall time, all {summary['submissions']} notebooks",
                  f"{summary['nbgrader_autograde_s']:.1f} s", "-" if spent is None else f"{spent:.1f} s",
                  f"{summary['kit_s']:.1f} s")
    times.add_row("buggy submissions caught", f"{summary['caught_nbgrader']}/{n}", "",
                  f"{summary['caught_kit']}/{n}")
    times.add_row("correct submissions that lost points", str(len(summary["false_alarms_nbgrader"])), "",
                  str(len(summary["false_alarms_kit"])))
    console.print(times)
    ratio = summary["ratio"]
    met = ratio >= TARGET_RATIO and summary["caught_kit"] > summary["caught_nbgrader"]
    verdict = "meets" if met else "MISSES"
    console.print(f"ratio nbgrader / kit: {ratio:.2f}x (target: kit >= {TARGET_RATIO:g}x faster and catching "
                  f"more: {verdict})")
    console.print(f"nbgrader generate_assignment (once per release, not in the ratio): "
                  f"{summary['nbgrader_generate_s']:.1f} s")
    if "ratio_without_experiments" in summary:
        spent, without = summary["nbgrader_experiment_cells_s"], summary["ratio_without_experiments"]
        console.print(f"nbgrader's kernels spent {spent:.1f} s in experiment cells; without them the ratio "
                      f"would be {without:.2f}x (from nbclient's cell timings, not a second run)")
    else:
        console.print("experiment cells' share of nbgrader's time: not measured (no cell timings recorded)")
    console.print(f"caught only by the kit: {', '.join(summary['caught_only_kit']) or 'none'}")
    console.print(f"caught only by nbgrader: {', '.join(summary['caught_only_nbgrader']) or 'none'}")
    console.print(f"caught by neither: {', '.join(summary['caught_by_neither']) or 'none'}")
    console.print(f"load average before / after: {summary['load_before']} / {summary['load_after']} "
                  f"on {os.cpu_count()} cpus (other work on the machine slows both ways)")


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | tuple[str, ...] = ()) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.nbgrader_compare",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in this new folder and keep it (course, kit results)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(list(argv))
    console = Console(width=140)
    load_before = _load()
    with tempfile.TemporaryDirectory(prefix="bench-nbgrader-") as tmp:
        work = args.keep or Path(tmp)
        if args.keep and args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: folder exists and is not empty")
        write_material(work / "material")
        console.print(f"grading {len(SUBMISSIONS)} notebooks with nbgrader autograde (a kernel each)...")
        nbgrader = run_nbgrader(work / "course", work / "material")
        console.print(f"grading the same notebooks with the kit (--jobs {JOBS}, one class per assignment)...")
        kit = run_kit(work / "kit", work / "material")
    summary = summarize(nbgrader, kit)
    summary["load_before"], summary["load_after"] = load_before, _load()
    print_report(nbgrader, kit, summary, console)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1) + "\n")
