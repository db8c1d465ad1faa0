"""Command line: ``python -m autograder grade [--assignment ID] PATH... [--out DIR] [--jobs N]``.

Parsing and exit codes only; grading lives in ``batch``/``engine``, output folders and course tasks in
``tasks``, files in ``reporters``. Exit 0 when grading ran (whatever the scores); 2 when nothing was
graded because of the command line (unknown assignment, missing path, an output folder that holds
other grades); 130 when interrupted (finished students are kept for ``--resume``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .grading.rubric import RubricError, assignment_ids, load_rubric

DEFAULT_OUT_ROOT = Path("grades")
SAMPLES_ROOT = Path(__file__).resolve().parents[1] / "tests" / "submissions"


def _grade_parser(sub) -> None:
    grade = sub.add_parser("grade", help="grade submissions (.py, .ipynb or a folder per student)")
    grade.add_argument(
        "--assignment",
        help=f"one of: {', '.join(assignment_ids())} (default: read from nbgrader's "
        "submitted/<student>/<assignment>/ layout)",
    )
    grade.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    grade.add_argument("--out", type=Path, help="output folder (default: grades/<assignment>)")
    grade.add_argument("--jobs", type=int, default=1, help="students graded in parallel (default 1)")
    grade.add_argument(
        "--cluster",
        metavar="tcp://HOST:PORT",
        help="grade on this Dask distributed scheduler, one student per task (--jobs is then ignored)",
    )
    grade.add_argument(
        "--isolation",
        default=None,
        help="force a sandbox level instead of the strongest available (see README)",
    )
    grade.add_argument(
        "--force",
        action="store_true",
        help="replace an output folder that holds another assignment or other students",
    )
    grade.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted run: reuse the records of unchanged submissions",
    )
    grade.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    grade.add_argument(
        "--grant-review",
        type=Path,
        metavar="FILE",
        help="JSON or TOML review file (student -> {graded name: sha256}) granting names a TA has read",
    )


def _samples_parser(sub) -> None:
    samples = sub.add_parser(
        "grade-samples", help="grade the bundled sample classes in one lane pool (make grade, no SUBMISSIONS)"
    )
    samples.add_argument("--assignment", action="append", help="repeatable (default: every assignment)")
    samples.add_argument("--out", type=Path, help="output folder (only with one --assignment; default: "
                         "grades/samples/<assignment>)")
    samples.add_argument("--jobs", type=int, default=1, help="lanes shared by every class (default 1)")
    samples.add_argument("--isolation", default=None, help="force a sandbox level (see README)")
    samples.add_argument("--force", action="store_true", help="replace an output folder holding other grades")
    samples.add_argument("--resume", action="store_true", help="finish an interrupted run")
    samples.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    samples.add_argument("--grant-review", type=Path, metavar="FILE", help="review grants (as for grade)")


def _course_parsers(sub) -> None:
    export = sub.add_parser(
        "export", help="one CSV row per student and assignment, from nbgrader's gradebook and kit folders"
    )
    export.add_argument("roots", nargs="*", type=Path, metavar="DIR", help="folders holding kit output")
    export.add_argument("--gradebook", help="nbgrader gradebook (sqlite file or database URL)")
    export.add_argument("--out", required=True, type=Path)
    export.add_argument("--assignment", action="append",
                        help="only this assignment (repeatable; default: every graded one)")

    bundle = sub.add_parser("gradescope-bundle", help="build a Gradescope autograder zip for one assignment")
    bundle.add_argument("--assignment", required=True)
    bundle.add_argument("--out", required=True, type=Path)

    autograde = sub.add_parser(
        "autograde", help="nbgrader autograde, graded in the kit's parallel lanes (make autograde)"
    )
    autograde.add_argument("--assignment", required=True)
    autograde.add_argument("--jobs", type=int, default=2)
    autograde.add_argument("--course", type=Path, default=None, help="course root (default: this kit)")

    publish = sub.add_parser(
        "publish", help="show hidden checks' details to one class: its kit HTML and Gradescope results, "
        "or nbgrader's feedback pages (--nbgrader)"
    )
    publish.add_argument("--assignment", required=True)
    publish.add_argument("--out", type=Path, action="append",
                         help="only this kit output folder (repeatable; default: grades/<assignment>)")
    publish.add_argument("--nbgrader", action="store_true",
                         help="publish nbgrader's class: its feedback pages, from now on (make feedback "
                         "keeps it)")
    publish.add_argument("--course", type=Path, default=None, help="course root (default: this kit)")

    feedback = sub.add_parser(
        "feedback",
        help="nbgrader's feedback pages of one assignment, .py-only students included (make feedback)",
    )
    feedback.add_argument("--assignment", required=True)
    feedback.add_argument("--course", type=Path, default=None, help="course root (default: this kit)")


def _similarity_parser(sub) -> None:
    similarity = sub.add_parser(
        "similarity",
        help="TA-side similarity evidence (copydetect): each submission against torch's source and the "
        "class; never changes a score",
    )
    similarity.add_argument(
        "--assignment",
        help=f"one of: {', '.join(assignment_ids())} (default: read from nbgrader's "
        "submitted/<student>/<assignment>/ layout)",
    )
    similarity.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    similarity.add_argument("--out", type=Path, help="output folder (default: grades/similarity/ASSIGNMENT)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _grade_parser(sub)
    _samples_parser(sub)
    _course_parsers(sub)
    _similarity_parser(sub)
    return parser


def _overlaps(a: Path, b: Path) -> bool:
    """Whether one path is the other or inside it."""
    a, b = a.resolve(), b.resolve()
    return a == b or a in b.parents or b in a.parents


def _class_paths(parser: argparse.ArgumentParser, args) -> tuple[list[Path], Path]:
    """The submissions to grade and the output folder, or a usage error (exit 2) saying what is wrong.
    Sets ``args.assignment`` when nbgrader's layout tells it."""
    from .tasks.layout import LayoutError, infer_assignment, split_nbgrader_class

    missing = [str(p) for p in args.paths if not os.path.lexists(p)]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    if args.assignment is None:
        try:
            args.assignment = infer_assignment(args.paths)
        except LayoutError as exc:
            parser.error(str(exc))
        print(f"assignment {args.assignment} (from nbgrader's submitted/<student>/<assignment>/ layout)")
    elif args.assignment not in assignment_ids():
        parser.error(f"unknown assignment {args.assignment!r}; known: {', '.join(assignment_ids())}")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    paths, skipped = split_nbgrader_class(list(args.paths), args.assignment)
    if skipped:
        print(
            f"not graded: {len(skipped)} student folder(s) without a {args.assignment}/ submission: "
            + ", ".join(p.name for p in skipped)
        )
    if not paths:
        parser.error(f"no submission of {args.assignment} among the given paths")
    out = args.out or DEFAULT_OUT_ROOT / args.assignment
    clash = [str(p) for p in paths if _overlaps(out, p)]
    if clash:
        parser.error(f"--out {out} must be neither a submission nor inside or around one: {', '.join(clash)}")
    return paths, out


def _level_and_grants(parser: argparse.ArgumentParser, args) -> tuple[str | None, dict]:
    """The isolation level of this run (resolved here, once; on a cluster by each worker) and the TA's
    review grants."""
    from .grading.batch import UnknownLevel, choose_level

    level = None
    try:
        if not getattr(args, "cluster", None):
            level = choose_level(args.isolation)
    except UnknownLevel as exc:
        parser.error(str(exc))
    grants = None
    if args.grant_review is not None:
        from .grading.review import GrantFileError, load_grants

        try:
            grants = load_grants(args.grant_review)
        except GrantFileError as exc:
            parser.error(str(exc))
    return level, grants or {}


def _grade(parser: argparse.ArgumentParser, args) -> int:
    from .reporters import print_summary
    from .reporters.summary import summary_console
    from .tasks.classrun import ClassRun, run_with_progress
    from .tasks.outdir import STAGING_SUFFIX, OutputConflict

    paths, out = _class_paths(parser, args)
    level, grants = _level_and_grants(parser, args)
    rubric = load_rubric(args.assignment)
    console = summary_console()
    lanes, cluster_errors = None, ()
    if args.cluster:
        from .grading.cluster import ClusterError, ClusterLanes

        cluster_errors = (ClusterError,)
        console.print(f"grading on the Dask cluster at {args.cluster}")
        try:
            lanes = ClusterLanes(args.cluster, args.isolation)  # each worker resolves its own level
        except (OSError, TimeoutError) as exc:
            print(f"error: cannot reach the Dask scheduler at {args.cluster}: {exc}", file=sys.stderr)
            return 1
    run = ClassRun(rubric, paths, out, jobs=args.jobs, level=level, force=args.force, resume=args.resume,
                   grants=grants, lanes=lanes)
    try:
        result = run_with_progress(run, console, quiet=args.quiet)
    except OutputConflict as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except cluster_errors as exc:
        print(f"error: {exc}\nthe students graded so far are kept in {out}{STAGING_SUFFIX}/; fix the "
              "cluster (every machine needs this kit importable, see README), then run the same command "
              "with --resume", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: the students graded so far are kept in {out}{STAGING_SUFFIX}/; run the same "
            "command with --resume (make grade ... RESUME=1) to grade only the others",
            file=sys.stderr,
        )
        return 130
    finally:
        if lanes is not None:
            lanes.close()
    if not args.quiet:
        print_summary(result.records, rubric, result.timings, console=console)
        console.print(
            f"isolation: {result.run_info['isolation']}; wrote {len(result.records)} results to {out}/"
        )
    return 0


def _sample_runs(parser: argparse.ArgumentParser, args, lanes) -> list:
    """One ``ClassRun`` per bundled sample class asked for, all sharing ``lanes``."""
    from .tasks.classrun import ClassRun

    assignments = args.assignment or assignment_ids()
    unknown = [a for a in assignments if a not in assignment_ids()]
    if unknown:
        parser.error(f"unknown assignment {unknown[0]!r}; known: {', '.join(assignment_ids())}")
    if args.out is not None and len(assignments) != 1:
        parser.error("--out needs exactly one --assignment")
    runs = []
    for a in assignments:
        folder = SAMPLES_ROOT / a / "sample_class"
        paths = sorted(Path(os.path.relpath(p)) for p in folder.iterdir() if not p.name.startswith("."))
        out = args.out or DEFAULT_OUT_ROOT / "samples" / a
        print(f"No SUBMISSIONS given: grading the bundled sample class of {a} into {out}/ "
              f"(a real class: make grade ASSIGNMENT={a} SUBMISSIONS=submitted)")
        runs.append(ClassRun(load_rubric(a), paths, out, jobs=lanes.jobs, level=lanes.level, force=args.force,
                             resume=args.resume, grants=args.grants, lanes=lanes))
    return runs


def _grade_samples(parser: argparse.ArgumentParser, args) -> int:
    """Every sample class in one run: one lane pool (zygotes started once), the classes side by side."""
    from .grading.batch import Lanes
    from .reporters import print_summary
    from .reporters.summary import summary_console
    from .tasks.classrun import run_all_with_progress
    from .tasks.outdir import OutputConflict

    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    level, args.grants = _level_and_grants(parser, args)
    console = summary_console()
    with Lanes(args.jobs, level) as lanes:
        runs = _sample_runs(parser, args, lanes)
        try:
            results = run_all_with_progress(runs, console, quiet=args.quiet)
        except OutputConflict as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("\ninterrupted: run the same command with --resume (make grade RESUME=1) to grade only "
                  "the students not graded yet", file=sys.stderr)
            return 130
    if not args.quiet:
        for run, result in zip(runs, results, strict=True):
            print_summary(result.records, run.rubric, result.timings, console=console)
            console.print(f"isolation: {result.run_info['isolation']}; wrote {len(result.records)} results "
                          f"to {run.out}/")
    return 0


def _similarity(parser: argparse.ArgumentParser, args) -> int:
    """The similarity report of one class (evidence for a TA; it reads no grade and writes none).
    Outside grades/<assignment>/: a regrade replaces that folder whole, and a folder there without the
    kit's run.json makes ``make grade`` refuse it."""
    from .tasks.layout import LayoutError, infer_assignment, split_nbgrader_class
    from .tasks.similarity import SimilarityOutputError, check_output, similarity_report, write_report

    missing = [str(p) for p in args.paths if not os.path.lexists(p)]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    if args.assignment is None:
        try:
            args.assignment = infer_assignment(args.paths)
        except LayoutError as exc:
            parser.error(str(exc))
        print(f"assignment {args.assignment} (from nbgrader's submitted/<student>/<assignment>/ layout)")
    elif args.assignment not in assignment_ids():
        parser.error(f"unknown assignment {args.assignment!r}; known: {', '.join(assignment_ids())}")
    paths, skipped = split_nbgrader_class(list(args.paths), args.assignment)
    if skipped:
        print(f"not compared: {len(skipped)} student folder(s) without a {args.assignment}/ submission: "
              + ", ".join(p.name for p in skipped))
    if not paths:
        parser.error(f"no submission of {args.assignment} among the given paths")
    out = args.out or DEFAULT_OUT_ROOT / "similarity" / args.assignment
    clash = [str(p) for p in paths if _overlaps(out, p)]
    if clash:
        parser.error(f"--out {out} must be neither a submission nor inside or around one: {', '.join(clash)}")
    try:
        check_output(out)  # before the work, and again when writing
        report = similarity_report(args.assignment, paths)
        written = write_report(report, out)
    except SimilarityOutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for student, why in report.skipped:
        print(f"not compared: {student}: {why.splitlines()[0]}")
    print(f"{len(report.students)} submission(s) of {args.assignment} compared with each other and with "
          f"torch's source: {len(report.flagged)} pair(s) flagged for a human to read (never a score); "
          f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _command(parser: argparse.ArgumentParser, args) -> int:
    if args.command == "grade":
        return _grade(parser, args)
    if args.command == "similarity":
        return _similarity(parser, args)
    if args.command == "grade-samples":
        return _grade_samples(parser, args)
    if args.command == "export":
        from .tasks.export import main as export_main

        return export_main(args.roots, args.out, args.gradebook, args.assignment)
    if args.assignment not in assignment_ids():
        parser.error(f"unknown assignment {args.assignment!r}; known: {', '.join(assignment_ids())}")
    if args.command == "gradescope-bundle":
        from .tasks.bundle import build_bundle

        print(f"wrote {build_bundle(args.assignment, args.out)}")
        return 0
    if args.command == "autograde":
        from .tasks.autograde import main as autograde_main

        return autograde_main(args.assignment, jobs=args.jobs, course=args.course)
    if args.command == "feedback":
        from .tasks.nbgrader_feedback import main as feedback_main

        return feedback_main(args.assignment, course=args.course)
    from .tasks.publish import main as publish_main

    return publish_main(args.assignment, outs=args.out, nbgrader=args.nbgrader, course=args.course)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _command(parser, args)
    except RubricError as exc:  # the kit's own rubric is broken: say so before grading anything
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
