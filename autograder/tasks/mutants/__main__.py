"""``python -m autograder.tasks.mutants --assignment ID [--jobs N] [--kind semantic] ...``: measure how
strong the checks are, against mechanical slips and against misreadings of the contract.

Exit 0 when the run completed (whatever the kill rate), 1 when the unmutated solution itself loses
points (every number would be meaningless), 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...grading.rubric import assignment_ids


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.tasks.mutants",
        description="Mutate the solution's graded code, drop the mutants an independent oracle finds "
        "equivalent, grade the rest and report what every rubric line kills.",
    )
    parser.add_argument(
        "--assignment",
        action="append",
        metavar="ID",
        help=f"one of {', '.join(assignment_ids())} (repeatable; default: all)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="parallel lanes for the oracle and the grader")
    parser.add_argument("--out", type=Path, default=None, help="report folder (default grades/mutants)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only mutant ids matching this glob, e.g. 'Adam:*' or '*:binop-*' (repeatable)",
    )
    parser.add_argument(
        "--kind",
        choices=("all", "mechanical", "semantic"),
        default="all",
        help="mechanical operator swaps, semantic misreadings of the contract (labels misread-*), or both",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N mutants (a quick look)")
    parser.add_argument(
        "--full-every",
        type=int,
        default=20,
        metavar="N",
        help="grade every N-th mutant with the whole module too, to confirm isolation (0: never; 1: all)",
    )
    parser.add_argument(
        "--grade-equivalent",
        action="store_true",
        help="also grade the mutants the oracle finds equivalent (finds false fails)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="ignore and overwrite cached verdicts and grades"
    )
    parser.add_argument("--no-diffs", action="store_true", help="do not print the survivors' diffs")
    parser.add_argument("--oracle-timeout", type=float, default=60.0, metavar="S", help="seconds per mutant")
    parser.add_argument("--isolation", default=None, help="sandbox level for grading (see the README)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument(
        "--examples-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="draw this share of every check's hypothesis examples (hand-picked cases all run): 0.34 "
        "tells whether each budget kills every mutant with a 3x margin (report: ID-examples-F.json)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    # Long on purpose: argument checks, then one run per assignment, then the summary, in order.
    parser = _parser()
    args = parser.parse_args(argv)
    assignments = args.assignment or list(assignment_ids())
    unknown = [a for a in assignments if a not in assignment_ids()]
    if unknown:
        parser.error(f"unknown assignment {', '.join(unknown)}; known: {', '.join(assignment_ids())}")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.full_every < 0:
        parser.error("--full-every must be 0 or more")
    if not 0 < args.examples_scale <= 1:
        parser.error("--examples-scale must be in (0, 1]")

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ...grading.batch import UnknownLevel, choose_level
    from .report import print_report, write_json
    from .run import REPO, Options, run, write_mutant_files

    try:
        level = choose_level(args.isolation)
    except UnknownLevel as exc:
        parser.error(str(exc))
    out = args.out or REPO / "grades" / "mutants"
    console = Console()
    if not console.is_terminal:  # a log file: wide enough for the tables, diffs never wrapped
        console = Console(width=130)
    status = 0
    for assignment in assignments:
        progress = Progress(
            TextColumn(f"{assignment} {{task.description}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=args.quiet,
            transient=True,
        )
        tasks: dict[str, int] = {}

        def tick(phase: str, done: int, total: int, progress=progress, tasks=tasks) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)

        options = Options(
            assignment=assignment,
            jobs=args.jobs,
            out=out,
            only=tuple(args.only),
            kind=args.kind,
            limit=args.limit,
            full_every=args.full_every,
            grade_equivalent=args.grade_equivalent,
            oracle_timeout_s=args.oracle_timeout,
            use_cache=not args.no_cache,
            isolation=level,
            progress=tick,
            examples_scale=args.examples_scale,
        )
        with progress:
            result = run(options)
        print_report(result, console, diffs=not args.no_diffs)
        if args.examples_scale != 1:  # a margin measurement: its own report, the same mutants
            path = write_json(result, out / f"{assignment}-examples-{args.examples_scale:g}.json")
            console.print(f"wrote {path} (hypothesis budgets scaled by {args.examples_scale:g})")
        else:
            path = write_json(result, out / f"{assignment}.json")
            write_mutant_files(result, out / assignment)
            console.print(
                f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} and the mutants "
                f"as .py submissions in {out / assignment}/"
            )
        if any(result.baseline.values()):
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
