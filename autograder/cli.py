"""Command line: ``python -m autograder grade --assignment ID PATH... --out DIR [--jobs N]``.

Parsing and exit codes only; grading lives in ``batch``/``engine``, files in ``reporters``.
Exit 0 when grading ran (whatever the scores), 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .rubric import assignment_ids, load_rubric


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade submissions (.py, .ipynb or a folder per student)")
    grade.add_argument("--assignment", required=True, help=f"one of: {', '.join(assignment_ids())}")
    grade.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    grade.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    grade.add_argument("--jobs", type=int, default=1, help="students graded in parallel (default 1)")
    grade.add_argument(
        "--isolation",
        default=None,
        help="force a sandbox level instead of the strongest available (see README)",
    )
    grade.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    grade.add_argument(
        "--grant-review",
        type=Path,
        metavar="FILE",
        help="JSON or TOML review file (student -> {graded name: sha256}) granting names a TA has read",
    )
    export = sub.add_parser("export", help="one CSV of every graded assignment below the given folders")
    export.add_argument("roots", nargs="+", type=Path, metavar="DIR")
    export.add_argument("--out", required=True, type=Path)
    bundle = sub.add_parser("gradescope-bundle", help="build a Gradescope autograder zip for one assignment")
    bundle.add_argument("--assignment", required=True)
    bundle.add_argument("--out", required=True, type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "export":
        from .export import write_export

        print(f"wrote {write_export(args.roots, args.out)} rows to {args.out}")
        return 0
    if args.assignment not in assignment_ids():
        parser.error(f"unknown assignment {args.assignment!r}; known: {', '.join(assignment_ids())}")
    if args.command == "gradescope-bundle":
        from .bundle import build_bundle

        print(f"wrote {build_bundle(args.assignment, args.out)}")
        return 0
    missing = [str(p) for p in args.paths if not os.path.lexists(p)]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    out = args.out
    if os.path.realpath(out) in {os.path.realpath(p) for p in args.paths}:
        parser.error("--out must not be one of the submissions")

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .batch import UnknownLevel, choose_level, grade_class
    from .reporters import print_summary, write_all
    from .reporters.summary import summary_console

    try:
        level = choose_level(args.isolation)
    except UnknownLevel as exc:
        parser.error(str(exc))
    grants = None
    if args.grant_review is not None:
        from .review import GrantFileError, load_grants

        try:
            grants = load_grants(args.grant_review)
        except GrantFileError as exc:
            parser.error(str(exc))
    rubric = load_rubric(args.assignment)
    console = summary_console()
    progress = Progress(
        TextColumn(f"grading {args.assignment}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        disable=args.quiet,
    )
    with progress:
        task = progress.add_task("", total=len(args.paths))
        records, timings, run_info = grade_class(
            list(args.paths),
            args.assignment,
            jobs=args.jobs,
            level=level,
            on_done=lambda sid: progress.update(task, advance=1, description=sid),
            grants=grants,
        )
    out.mkdir(parents=True, exist_ok=True)
    write_all(records, rubric, out, timings, run_info)
    if not args.quiet:
        print_summary(records, rubric, timings, console=console)
        console.print(f"isolation: {run_info['isolation']}; wrote {len(records)} results to {out}/")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
